package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Format;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.qmp.QmpException.Kind;
import io.xensnap.internal.qmp.TransactionAction.AttachOverlay;
import io.xensnap.internal.qmp.TransactionAction.ExternalSnapshot;
import io.xensnap.internal.qmp.TransactionAction.InternalSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Transactions and their QEMU error texts (docs/qemu.md#transactions, #error-texts) on both backend profiles. */
class SnapshotTransactionTest {

    private RealQemu qemu;

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
    }

    private List<String> targets(QmpConnection c) throws QmpException {
        BlockDevices devices = new BlockDevices(c);
        return qemu.disks().stream().map(d -> {
            try {
                return devices.resolve(d.id()).target();
            } catch (QmpException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    private Path sibling(String name) {
        return qemu.disk(0).image().resolveSibling(name);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void internalSnapshotsOfAllDisksInOneTransaction(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).disks(2).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> t = targets(c);
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot(t.get(0), "s1"),
                    new InternalSnapshot(t.get(1), "s1")));
        }
        assertThat(QmpTesting.snapshotNames(qemu)).containsExactly(List.of("s1"), List.of("s1"));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void anInternalSnapshotOfARawDiskFailsAndRollsBackTheOthers(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).formats(Format.QCOW2, Format.QCOW2, Format.RAW).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> t = targets(c);
            QmpTransactionException e = catchThrowableOfType(QmpTransactionException.class,
                    () -> new SnapshotTransaction(c).run(List.of(new InternalSnapshot(t.get(0), "s"),
                            new InternalSnapshot(t.get(1), "s"), new InternalSnapshot(t.get(2), "s"))));

            assertThat(e.kind()).isEqualTo(Kind.ERROR_REPLY);
            assertThat(e.errorClass()).isEqualTo("GenericError");
            assertThat(e.desc()).isEqualTo("Block format 'raw' used by device '" + t.get(2)
                    + "' does not support internal snapshots");
            assertThat(e.createdFiles()).isEmpty();
        }
        assertThat(QmpTesting.snapshotNames(qemu)).containsExactly(List.of(), List.of(), List.of());
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aDuplicateNameFailsAndTheOverlayAlreadyCreatedIsReported(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).disks(2).start();
        Path overlay = sibling("d0-ov.qcow2");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> t = targets(c);
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot(t.get(1), "dup")));
            String root0 = new BlockDevices(c).resolve(qemu.disk(0).id()).nodeName();

            QmpTransactionException e = catchThrowableOfType(QmpTransactionException.class,
                    () -> new SnapshotTransaction(c).run(List.of(ExternalSnapshot.create(root0, overlay, "d0-ov"),
                            new InternalSnapshot(t.get(1), "dup"))));

            assertThat(e.desc()).isEqualTo("Snapshot with name 'dup' already exists on device '" + t.get(1) + "'");
            assertThat(e.createdFiles()).containsExactly(overlay);
            assertThat(e).hasMessageContaining("overlay files left behind: [" + overlay + "]");
        }
        assertThat(overlay).exists();
        assertThat(QmpTesting.chains(qemu)).containsExactly(List.of(qemu.disk(0).image().toString()),
                List.of(qemu.disk(1).image().toString()));
        assertThat(QmpTesting.snapshotNames(qemu)).containsExactly(List.of(), List.of("dup"));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void anUnknownDeviceFailsWithQemusText(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            QmpTransactionException internal = catchThrowableOfType(QmpTransactionException.class,
                    () -> new SnapshotTransaction(c).run(List.of(new InternalSnapshot("nosuch", "s"))));
            assertThat(internal.desc()).isEqualTo("Cannot find device='nosuch' nor node-name='nosuch'");

            QmpTransactionException external = catchThrowableOfType(QmpTransactionException.class,
                    () -> new SnapshotTransaction(c).run(List.of(
                            ExternalSnapshot.create("nosuch", sibling("x.qcow2"), "x"))));
            assertThat(external.desc()).isEqualTo("Cannot find device='' nor node-name='nosuch'");
            assertThat(external.createdFiles()).isEmpty();
        }
        assertThat(sibling("x.qcow2")).doesNotExist();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aMissingOverlayDirectoryFailsTheTransactionOnThreeDisksAndChangesNothing(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).disks(3).start();
        Path ov1 = sibling("d1-ov.qcow2");
        Path missing = sibling("nonexist").resolve("d2-ov.qcow2");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> t = targets(c);
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot(t.get(0), "old")));
        }
        List<List<String>> chainsBefore = QmpTesting.chains(qemu);
        List<List<String>> snapshotsBefore = QmpTesting.snapshotNames(qemu);
        List<String> rootsBefore = QmpTesting.rootNodes(qemu);

        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<BlockDevice> d = new BlockDevices(c).list();
            QmpTransactionException e = catchThrowableOfType(QmpTransactionException.class,
                    () -> new SnapshotTransaction(c).run(List.of(
                            new InternalSnapshot(d.get(0).target(), "new"),
                            ExternalSnapshot.create(d.get(1).nodeName(), ov1, "d1-ov"),
                            ExternalSnapshot.create(d.get(2).nodeName(), missing, "d2-ov"))));

            assertThat(e.errorClass()).isEqualTo("GenericError");
            assertThat(e.desc()).isEqualTo("Could not create '" + missing + "': No such file or directory");
            assertThat(e.createdFiles()).containsExactly(ov1);
        }
        assertThat(QmpTesting.chains(qemu)).isEqualTo(chainsBefore);
        assertThat(QmpTesting.snapshotNames(qemu)).isEqualTo(snapshotsBefore).containsExactly(
                List.of("old"), List.of(), List.of());
        assertThat(QmpTesting.rootNodes(qemu)).isEqualTo(rootsBefore);
        assertThat(ov1).exists();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void externalSnapshotsOfAllDisksIncludingRaw(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).formats(Format.QCOW2, Format.RAW).withData(0x40).start();
        Path ov0 = sibling("d0-s1.qcow2");
        Path ov1 = sibling("d1-s1.qcow2");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<BlockDevice> d = new BlockDevices(c).list();
            new SnapshotTransaction(c).run(List.of(ExternalSnapshot.create(d.get(0).nodeName(), ov0, "d0-s1"),
                    ExternalSnapshot.create(d.get(1).nodeName(), ov1, "d1-s1")));
        }
        assertThat(QmpTesting.rootNodes(qemu)).containsExactly("d0-s1", "d1-s1");
        assertThat(QmpTesting.imgChain(ov1)).containsExactly(ov1.toString(), qemu.disk(1).image().toString());
        assertThat(QmpTesting.JSON.readTree(ShortCommand.ok(Prerequisite.QEMU_IMG.require().toString(), "info",
                "--output=json", "-U", ov1.toString()).output()).path("backing-filename-format").asText())
                .isEqualTo("raw");
        // guest data is visible unchanged through the new overlays
        assertThat(RealQemu.hasPattern(ov0, Format.QCOW2, 0x40)).isTrue();
        assertThat(RealQemu.hasPattern(ov1, Format.QCOW2, 0x41)).isTrue();
    }

    @Test
    void anOverlayThatExistsAlreadyIsRefusedBeforeQemuCanOverwriteIt() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        Path existing = sibling("precious.qcow2");
        Files.writeString(existing, "not to be overwritten");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            QmpException e = catchThrowableOfType(QmpException.class, () -> new SnapshotTransaction(c)
                    .run(List.of(ExternalSnapshot.create("disk0", existing, "ov"))));

            assertThat(e.kind()).isEqualTo(Kind.PRECONDITION);
            assertThat(e).hasMessageContaining("overlay " + existing + " exists already");
        }
        assertThat(existing).hasContent("not to be overwritten");
        assertThat(QmpTesting.rootNodes(qemu)).containsExactly("disk0");
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void anOverlayCreatedBeforehandIsAddedAndAttached(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).withData(0x10).start();
        Path overlay = sibling("pre.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", "-b", qemu.disk(0).image().toString(), "-F", "qcow2",
                overlay.toString());
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            String root = new BlockDevices(c).resolve(qemu.disk(0).id()).nodeName();
            new OverlayNodes(c).add("pre", overlay);
            new SnapshotTransaction(c).run(List.of(new AttachOverlay(root, "pre")));

            BlockDevice d = new BlockDevices(c).resolve(qemu.disk(0).id());
            assertThat(d.nodeChain()).containsExactly("pre", root);
            assertThat(d.fileChain()).containsExactly(overlay.toString(), qemu.disk(0).image().toString());
        }
        assertThat(RealQemu.hasPattern(overlay, Format.QCOW2, 0x10)).isTrue();
    }

    @Test
    void anExistingOverlayCanBeTakenOverWithModeExisting() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).start();
        Path overlay = sibling("made.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", "-b", qemu.disk(0).image().toString(), "-F", "qcow2",
                overlay.toString());
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            new SnapshotTransaction(c).run(List.of(new ExternalSnapshot("xvda-qcow2", overlay, "xvda-made", "qcow2",
                    ExternalSnapshot.Mode.EXISTING)));
        }
        assertThat(QmpTesting.rootNodes(qemu)).containsExactly("xvda-made");
    }

    @Test
    void anOverlayNodeThatIsNotAttachedCanBeRemovedAgain() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        Path overlay = sibling("unused.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", "-b", qemu.disk(0).image().toString(), "-F", "qcow2",
                overlay.toString());
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            OverlayNodes nodes = new OverlayNodes(c);
            nodes.add("unused", overlay);
            assertThat(names(c)).contains("unused");

            nodes.delete("unused");
            assertThat(names(c)).doesNotContain("unused");
            QmpException inUse = catchThrowableOfType(QmpException.class, () -> nodes.delete("disk0"));
            assertThat(inUse.desc()).isEqualTo("Node disk0 is in use");
        }
    }

    private static List<String> names(QmpConnection c) throws QmpException {
        List<String> names = new ArrayList<>();
        c.execute("query-named-block-nodes", c.arguments().put("flat", true))
                .forEach(n -> names.add(n.path("node-name").asText()));
        return names;
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void deletingAnInternalSnapshotReturnsItAndAnUnknownOneFailsWithQemusText(Profile profile) throws Exception {
        qemu = RealQemu.builder(profile).disks(2).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> t = targets(c);
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot(t.get(1), "keep"),
                    new InternalSnapshot(t.get(1), "drop")));

            InternalSnapshotInfo deleted = new InternalSnapshots(c).delete(t.get(1), "drop");
            assertThat(deleted.name()).isEqualTo("drop");
            assertThat(deleted.id()).isEqualTo("2");
            assertThat(deleted.vmStateSize()).isZero();

            QmpException e = catchThrowableOfType(QmpException.class,
                    () -> new InternalSnapshots(c).delete(t.get(1), "nosuch"));
            assertThat(e.kind()).isEqualTo(Kind.ERROR_REPLY);
            assertThat(e.desc()).isEqualTo("Snapshot with id 'null' and name 'nosuch' does not exist on device '"
                    + t.get(1) + "'");
        }
        assertThat(QmpTesting.snapshotNames(qemu)).containsExactly(List.of(), List.of("keep"));
    }
}
