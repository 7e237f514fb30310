package io.xensnap.internal.engine.create;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * The guards of create on a real dom0 (QEMU, xenstored, libxl's files): each refuses with its own code before
 * anything changes, at exactly its limit and not before, and counts what QEMU would see, also chains xensnap did not
 * make. The free-space floor on a small real file system is in {@code DiskFullScenario}.
 */
class CreateGuardsTest {

    private static final DomainRef DOM = DomainRef.running(7);

    private Dom0 dom0;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(7);
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private static SnapshotRequest request(String name, DiskSpec... disks) {
        return new SnapshotRequest(DOM, name, "", List.of(disks));
    }

    private void refused(SnapshotEngine engine, SnapshotRequest r, SnapshotError code, String why) throws Exception {
        String before = dom0.fingerprint();
        assertThatThrownBy(() -> engine.create(r)).isInstanceOfSatisfying(SnapshotException.class, e -> {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
            assertThat(e.getMessage()).contains(why);
        });
        assertThat(dom0.fingerprint()).as("state after a refused create").isEqualTo(before);
    }

    @Test
    void anExternalSnapshotBeyondTheChainLimitIsRefusedAndAnInternalOneStillAllowed() throws Exception {
        SnapshotEngine engine = dom0.engine(new CreateLimits(3, 0, 0, 100));
        // xvdc is raw: 1 image, then 2, then 3 = the limit
        engine.create(request("e1", DiskSpec.external("xvdc", null)));
        engine.create(request("e2", DiskSpec.external("xvdc", null)));

        refused(engine, request("e3", DiskSpec.internal("xvda"), DiskSpec.external("xvdc", null)),
                SnapshotError.CHAIN_TOO_LONG, "holds 3 images and may hold at most 3 (configuration key"
                        + " chain.max.length)");
        // the chain does not grow with an internal snapshot in its top image
        engine.create(request("i3", DiskSpec.internal("xvdc")));
        // a delete merges an overlay: room again
        engine.delete(DOM, "i3");
        engine.delete(DOM, "e2");
        engine.create(request("e3", DiskSpec.external("xvdc", null)));
    }

    @Test
    void aChainMadeOutsideXensnapIsCountedAsQemuFollowsIt() throws Exception {
        // a shut-off domain's chain made by hand: relative backing names, the middle one without a backing format
        Path dir = Files.createDirectories(dom0.images.resolve("hand"));
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "raw", dir.resolve("base.raw").toString(), "16M");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
                dir.resolve("l1.qcow2").toString());
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", "l1.qcow2", "-F", "qcow2",
                dir.resolve("l2.qcow2").toString());
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", "l2.qcow2", "-F", "qcow2",
                dir.resolve("l3.qcow2").toString());
        // as qemu-img before 6.1 could make it: no backing format, so QEMU probes it, and so must the count
        dropBackingFormat(dir.resolve("l3.qcow2"));
        DomainRef off = DomainRef.shutOff(Dom0.uuid(20), List.of(
                new DiskImage("xvda", dir.resolve("l3.qcow2"), DiskFormat.QCOW2)));
        SnapshotRequest ext = new SnapshotRequest(off, "e1", "", List.of(DiskSpec.external("xvda", null)));

        refused(dom0.engine(new CreateLimits(4, 0, 0, 100)), ext, SnapshotError.CHAIN_TOO_LONG, "holds 4 images");
        dom0.engine(new CreateLimits(5, 0, 0, 100)).create(ext);
        assertThat(Files.exists(dir.resolve("l3.e1.qcow2"))).isTrue();
    }

    /** Ends the header extensions where the backing format extension was (QEMU ignores what follows). */
    private static void dropBackingFormat(Path qcow2) throws Exception {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(qcow2,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(4096);
            ch.read(h, 0);
            for (int at = 104; at < 4096 - 4; at += 4) {
                if (h.getInt(at) == 0xe2792aca) {
                    ch.write(java.nio.ByteBuffer.allocate(4), at);
                    assertThat(ShortCommand.ok("qemu-img", "info", qcow2.toString()).output()).doesNotContain("backing file format");
                    return;
                }
            }
            throw new AssertionError("no backing format extension in " + qcow2);
        }
    }

    @Test
    void anInternalSnapshotBeyondTheLimitIsRefused() throws Exception {
        SnapshotEngine engine = dom0.engine(new CreateLimits(30, 0, 0, 2));
        engine.create(request("i1", DiskSpec.internal("xvda")));
        engine.create(request("i2", DiskSpec.internal("xvda"), DiskSpec.internal("xvdb")));

        refused(engine, request("i3", DiskSpec.internal("xvdb"), DiskSpec.internal("xvda")),
                SnapshotError.TOO_MANY_SNAPSHOTS, "holds 2 internal snapshots and may hold at most 2");
        // xvdb holds one: allowed
        engine.create(request("i3", DiskSpec.internal("xvdb")));
        // snapshots someone else made in the image count too: the image holds them all
        refused(engine, request("i4", DiskSpec.internal("xvdb")), SnapshotError.TOO_MANY_SNAPSHOTS,
                "configuration key internal.snapshots.max");
        engine.delete(DOM, "i1");
        engine.create(request("i4", DiskSpec.internal("xvda")));
    }

    @Test
    void anOverlayOnAFileSystemBelowTheFloorIsRefused() throws Exception {
        Path vm7 = dom0.images.resolve("vm7");
        long usable = Files.getFileStore(vm7).getUsableSpace();
        SnapshotRequest ext = request("e1", DiskSpec.external("xvdc", null));

        refused(dom0.engine(new CreateLimits(30, usable + (1L << 40), 0, 100)), ext, SnapshotError.LOW_FREE_SPACE,
                "configuration keys free.space.min.bytes, free.space.min.percent");
        refused(dom0.engine(new CreateLimits(30, 0, 99, 100)), ext, SnapshotError.LOW_FREE_SPACE, "below the minimum");
        // an internal snapshot makes no overlay: the floor does not apply to it
        dom0.engine(new CreateLimits(30, usable + (1L << 40), 99, 100)).create(request("i1",
                DiskSpec.internal("xvda")));
        dom0.engine(new CreateLimits(30, 1, 1, 100)).create(ext);
    }
}
