package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.assertOriginalData;
import static io.xensnap.internal.engine.Faults.assertViewsAgree;
import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.Faults.Point;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;

/**
 * The disk-full cases, run by {@link DiskFullTest} in a JVM of its own inside a private mount namespace
 * ({@code unshare -m --propagation private}): the small tmpfs file systems mounted here exist for this JVM, its QEMU
 * and its qemu-img runs only, and vanish with them. Prints {@code PASS <case>} per case; any failure ends the JVM with
 * a stack trace and a non-zero exit code.
 */
public final class DiskFullScenario {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private final List<Path> mounts = new ArrayList<>();

    private DiskFullScenario() {
    }

    public static void main(String[] args) throws Exception {
        new DiskFullScenario().run();
    }

    private void run() throws Exception {
        try (Dom0 dom0 = new Dom0(RealXenstored.Profile.CXENSTORED)) {
            try {
                cases(dom0);
            } finally {
                // a mount point cannot be removed while mounted; the namespace would drop them, the tree must go first
                for (Path m : mounts) {
                    ShortCommand.ok("umount", m.toString());
                }
            }
        }
    }

    private void cases(Dom0 dom0) throws Exception {
        RealQemu qemu = dom0.domain(DOMID);
        Path catalogs = Files.createDirectories(dom0.state.resolve("domains"));
        mount(catalogs, "256k");
        Path full = mount(Files.createDirectories(dom0.images.resolve("vm7/full")), "64k");
        // the free-space floor would refuse what cases 1 and 4 test: qemu-img meeting a full file system, as it can
        // when the space goes between the check and the write
        SnapshotEngine engine = dom0.engine(CreateLimits.defaults().withoutFreeSpaceFloor());
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvdb"))));
        fill(full);

        // 0. the free-space floor: refused while validating, before any file is made or QEMU is asked
        String before = dom0.fingerprint();
        for (CreateLimits floor : List.of(CreateLimits.defaults(), new CreateLimits(30, 0, 1, 100))) {
            assertThatThrownBy(() -> dom0.engine(floor).create(new SnapshotRequest(DOM, "s1", "", List.of(
                    DiskSpec.internal("xvda"), DiskSpec.external("xvdc", full.resolve("c.qcow2"))))))
                    .isInstanceOf(SnapshotException.class).hasMessageContaining("free.space.min.percent")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.LOW_FREE_SPACE))
                    .satisfies(e -> System.out.println("  " + ((SnapshotException) e).codedMessage()));
            assertThat(dom0.fingerprint()).isEqualTo(before);
        }
        assertSettled(dom0, engine);
        pass("overlay file system below the free-space floor: create refused, nothing changed");

        // 1. the overlay's file system is full: qemu-img cannot format the overlay xensnap made for the transaction,
        //    which never starts; everything is taken back
        before = dom0.fingerprint();
        assertThatThrownBy(() -> engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"),
                DiskSpec.external("xvdc", full.resolve("c.qcow2"))))))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("No space left on device")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.TOOL_FAILED))
                .satisfies(e -> System.out.println("  " + ((SnapshotException) e).codedMessage()));
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertSettled(dom0, engine);
        pass("overlay file system full: live create refused, nothing changed");

        // 2. the catalog's file system is full before the operation: the pending mark cannot be written
        Path filler = fill(catalogs);
        before = dom0.fingerprint();
        assertThat(code(() -> engine.create(SnapshotRequest.allDisks(DOM, "s1", ""))))
                .isEqualTo(SnapshotError.CATALOG_UNWRITABLE);
        assertThat(code(() -> engine.delete(DOM, "s0"))).isEqualTo(SnapshotError.CATALOG_UNWRITABLE);
        assertThat(dom0.fingerprint()).isEqualTo(before);
        Files.delete(filler);
        assertSettled(dom0, engine);
        pass("catalog file system full: create and delete refused before anything changed");

        // 3. the catalog's file system fills up after QEMU took the snapshot: the create stays pending
        SnapshotEngine filling = dom0.engine(Faults.at(Point.AFTER_XENSTORE, () -> fill(catalogs)),
                CreateLimits.defaults().withoutFreeSpaceFloor());
        assertThatThrownBy(() -> filling.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"),
                DiskSpec.external("xvdc", null)))))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("the catalog was not updated")
                .hasMessageContaining("The catalog keeps a pending create mark: run 'snapshot:reconcile 7'")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.CATALOG_UNWRITABLE));
        Files.delete(catalogs.resolve("filler"));
        ReconcileReport r = dom0.engine().reconcile(DOM);
        assertThat(r.findings()).as(r.lines().toString()).singleElement()
                .satisfies(f -> assertThat(f.code()).isEqualTo(Code.CREATE_FINISHED));
        assertSettled(dom0, engine);
        assertThat(engine.list(DOM).current()).isEqualTo("s1");
        pass("catalog file system full after the point of no return: pending, finished by reconcile");

        // 4. offline: qemu-img cannot write the overlay; the internal snapshot on the other disk is taken back
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of(
                new DiskImage("xvda", qemu.disk(0).image(), DiskFormat.QCOW2),
                new DiskImage("xvdb", qemu.disk(1).image(), DiskFormat.QCOW2)));
        before = dom0.fingerprint();
        assertThatThrownBy(() -> engine.create(new SnapshotRequest(off, "s2", "", List.of(DiskSpec.internal("xvda"),
                DiskSpec.external("xvdb", full.resolve("b.qcow2"))))))
                .isInstanceOf(SnapshotException.class)
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.TOOL_FAILED))
                .satisfies(e -> System.out.println("  " + ((SnapshotException) e).codedMessage()));
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(engine.reconcile(off).lines()).isEmpty();
        pass("overlay file system full: offline create refused, nothing changed");
    }

    private static void assertSettled(Dom0 dom0, SnapshotEngine engine) throws Exception {
        assertThat(engine.reconcile(DOM).lines()).isEmpty();
        assertViewsAgree(dom0, DOMID);
        assertOriginalData(dom0, DOMID);
    }

    private Path mount(Path dir, String size) {
        ShortCommand.ok("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0755", "xensnap-full", dir.toString());
        mounts.add(0, dir);
        return dir;
    }

    /** Writes {@code dir/filler} until the file system has no block left. */
    private static Path fill(Path dir) throws IOException {
        Path filler = dir.resolve("filler");
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
                out.flush();
            }
        } catch (IOException e) {
            if (e.getMessage() == null || !e.getMessage().contains("No space left on device")) {
                throw e;
            }
        }
        return filler;
    }

    private static void pass(String what) {
        System.out.println("PASS " + what);
    }
}
