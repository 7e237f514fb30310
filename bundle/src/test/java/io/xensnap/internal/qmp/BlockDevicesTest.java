package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Format;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.internal.qmp.QmpException.Kind;
import io.xensnap.internal.qmp.TransactionAction.ExternalSnapshot;
import io.xensnap.internal.qmp.TransactionAction.InternalSnapshot;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BlockDevicesTest {

    private RealQemu qemu;

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
    }

    @Test
    void plainDisksAreNamedBlockBackends() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).formats(Format.QCOW2, Format.RAW).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<BlockDevice> all = new BlockDevices(c).list();

            assertThat(all).hasSize(2);
            BlockDevice d0 = all.get(0);
            assertThat(d0.device()).isEqualTo("drive0");
            assertThat(d0.nodeName()).isEqualTo("disk0");
            assertThat(d0.target()).isEqualTo("drive0");
            assertThat(d0.qdev()).isEmpty();
            assertThat(d0.driver()).isEqualTo("qcow2");
            assertThat(d0.file()).isEqualTo(qemu.disk(0).image().toString());
            assertThat(d0.nodeChain()).containsExactly("disk0");
            assertThat(d0.fileChain()).containsExactly(qemu.disk(0).image().toString());
            assertThat(all.get(1).driver()).isEqualTo("raw");
            assertThat(all.get(1).target()).isEqualTo("drive1");
        }
    }

    @Test
    void xenQdiskDisksAreAnonymousAndAddressedByNodeName() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).formats(Format.QCOW2, Format.RAW).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            BlockDevices devices = new BlockDevices(c);
            List<BlockDevice> all = devices.list();

            assertThat(all).extracting(BlockDevice::device).containsExactly("", "");
            assertThat(all).extracting(BlockDevice::target).containsExactly("xvda-qcow2", "xvdb-raw");
            assertThat(all).extracting(BlockDevice::qdevId).containsExactly("xvda", "xvdb");
            // by vdev (device id), by node-name, and by the qdisk convention <vdev>-<driver>
            assertThat(devices.resolve("xvdb").nodeName()).isEqualTo("xvdb-raw");
            assertThat(devices.resolve("xvdb-raw").qdevId()).isEqualTo("xvdb");
        }
    }

    @Test
    void anUnknownDiskIsNoSuchDiskListingWhatExists() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).disks(2).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            QmpException e = catchThrowableOfType(QmpException.class, () -> new BlockDevices(c).resolve("xvdz"));

            assertThat(e.kind()).isEqualTo(Kind.NO_SUCH_DISK);
            assertThat(e).hasMessageContaining("no block device for disk 'xvdz'")
                    .hasMessageContaining("[xvda-qcow2@xvda, xvdb-qcow2@xvdb]");
        }
    }

    @Test
    void xenQdiskIsReResolvedToTheNewRootAfterAnExternalSnapshot() throws Exception {
        qemu = RealQemu.builder(Profile.XEN_QDISK).disks(2).start();
        Path overlay = qemu.disk(0).image().resolveSibling("a-ov1.qcow2");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            BlockDevices devices = new BlockDevices(c);
            new SnapshotTransaction(c).run(List.of(
                    ExternalSnapshot.create(devices.resolve("xvda").nodeName(), overlay, "xvda-ov1")));

            BlockDevice now = devices.resolve("xvda");
            assertThat(now.nodeName()).isEqualTo("xvda-ov1");
            assertThat(now.nodeChain()).containsExactly("xvda-ov1", "xvda-qcow2");
            assertThat(now.fileChain()).containsExactly(overlay.toString(), qemu.disk(0).image().toString());
            // the old name still finds the disk, through the backing chain (how a real xen-block, whose device id
            // is not the vdev, is found after a snapshot)
            assertThat(devices.resolve("xvda-qcow2").target()).isEqualTo("xvda-ov1");
            assertThat(devices.resolve("xvdb").target()).isEqualTo("xvdb-qcow2");

            // the old root is no longer a valid target for internal snapshots (docs/qemu.md#qdisk-nodes)
            QmpException old = catchThrowableOfType(QmpException.class, () -> new SnapshotTransaction(c)
                    .run(List.of(new InternalSnapshot("xvda-qcow2", "s1"))));
            assertThat(old.errorClass()).isEqualTo("GenericError");
            assertThat(old.desc()).isEqualTo("Need a root block node");
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot(now.target(), "s1")));
            assertThat(devices.resolve("xvda").snapshots()).extracting(InternalSnapshotInfo::name)
                    .containsExactly("s1");
        }
        assertThat(QmpTesting.imgChain(overlay)).containsExactly(overlay.toString(),
                qemu.disk(0).image().toString());
    }

    @Test
    void plainDiskKeepsItsBlockBackendNameAcrossAnExternalSnapshot() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        Path overlay = qemu.disk(0).image().resolveSibling("ov1.qcow2");
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            BlockDevices devices = new BlockDevices(c);
            new SnapshotTransaction(c).run(List.of(ExternalSnapshot.create("disk0", overlay, "ov1")));

            BlockDevice d = devices.resolve("drive0");
            assertThat(d.target()).isEqualTo("drive0");
            assertThat(d.nodeName()).isEqualTo("ov1");
            assertThat(devices.resolve("disk0").device()).isEqualTo("drive0");
            // the BlockBackend name addresses the new root: an internal snapshot lands in the overlay
            new SnapshotTransaction(c).run(List.of(new InternalSnapshot("drive0", "after")));
            assertThat(devices.resolve("drive0").hasSnapshot("after")).isTrue();
        }
    }
}
