package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotTree;
import io.xensnap.harness.Devid;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.engine.create.CreatePlan;

/** The engine end to end against a real xenstored, a libxl layout and a Xen-like QEMU per domain. */
class SnapshotEngineTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private Dom0 dom0;
    private RealQemu qemu;
    private SnapshotEngine engine;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        engine = dom0.engine();
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private Path image(int disk) {
        return qemu.disk(disk).image();
    }

    @Test
    void createWithoutDisksSnapshotsEveryDiskInOneTransactionAndTheDomainFollowsTheOverlay() throws Exception {
        SnapshotInfo s1 = engine.create(SnapshotRequest.allDisks(DOM, "s1", "before upgrade"));

        Path overlay = image(2).resolveSibling("disk2.s1.qcow2");
        assertThat(s1.disks()).extracting(d -> d.vdev() + ":" + d.kind())
                .containsExactly("xvda:INTERNAL", "xvdb:INTERNAL", "xvdc:EXTERNAL");
        assertThat(s1.disks().get(2).overlay()).isEqualTo(overlay);
        // QEMU: internal snapshots in the qcow2 roots, the raw disk now runs on the overlay
        assertThat(dom0.internalSnapshots(DOMID, "xvda")).containsExactly("s1");
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).containsExactly("s1");
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(overlay.toString());
        assertThat(Dom0.chain(overlay)).containsExactly(overlay.toString(), image(2).toString());
        // xenstore backend (and libxl's copy) and libxl's stored config point at the overlay
        assertThat(dom0.backendParams(DOMID, "xvdc")).isEqualTo("qcow2:" + overlay);
        assertThat(dom0.xenstoreRead("/libxl/" + DOMID + "/device/vbd/" + Devid.XVDC + "/params"))
                .isEqualTo("qcow2:" + overlay);
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("pdev_path").asText()).isEqualTo(overlay.toString());
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("format").asText()).isEqualTo("qcow2");
        assertThat(dom0.libxlDisk(DOMID, "xvda").get("pdev_path").asText()).isEqualTo(image(0).toString());
        // the catalog
        SnapshotTree tree = engine.list(DOM);
        assertThat(tree.current()).isEqualTo("s1");
        assertThat(tree.snapshots()).containsExactly(s1);
        assertThat(engine.get(DOM, "s1").description()).isEqualTo("before upgrade");
    }

    /**
     * QEMU's answers are awaited only after the pending mark was written (the mark goes to the disk while QEMU
     * answers): a disk xenstore names but QEMU does not serve is refused then, and the mark is taken back byte for
     * byte.
     */
    @Test
    void aDiskQemuDoesNotServeIsRefusedAfterTheMarkAndTheMarkIsTakenBack() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s0", "", List.of(DiskSpec.internal("xvda"))));
        Path copy = image(1).resolveSibling("copy-of-disk1.qcow2");
        Files.copy(image(1), copy);
        dom0.host.cli().write("/local/domain/0/backend/qdisk/" + DOMID + "/" + Devid.of("xvdb") + "/params",
                "qcow2:" + copy);
        Path journal = new io.xensnap.internal.catalog.CatalogStore(dom0.state).journalFile(Dom0.uuid(DOMID));
        byte[] journalBefore = Files.readAllBytes(journal);
        String before = dom0.fingerprint();

        SnapshotException e = org.assertj.core.api.Assertions.catchThrowableOfType(SnapshotException.class,
                () -> engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvdb")))));

        assertThat(e.code()).isEqualTo(SnapshotError.INVALID_STATE);
        assertThat(e).hasMessageContaining("QEMU serves " + image(1)).hasMessageContaining("xenstore says " + copy);
        assertThat(dom0.fingerprint()).as("nothing changed").isEqualTo(before);
        assertThat(Files.readAllBytes(journal)).as("the journal cut back to its bytes").isEqualTo(journalBefore);
        assertThat(engine.list(DOM).snapshots()).extracting(SnapshotInfo::name).containsExactly("s0");
    }

    @Test
    void aSnapshotOfARunningDomainKeepsLibxlsConfigAsItWasThenAndItsDeleteRemovesIt() throws Exception {
        byte[] file = Files.readAllBytes(dom0.host.userdataPath(DOMID));
        String before = new String(file, 0, file.length - 1, StandardCharsets.UTF_8);

        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));

        Optional<String> kept = engine.domainConfig(DOM, "s1");
        assertThat(kept).as("libxl's JSON before the snapshot changed it").hasValue(before);
        assertThat(kept.get()).as("names the image the snapshot froze").contains("\"" + image(2) + "\"")
                .doesNotContain("disk2.s1.qcow2");
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("pdev_path").asText()).endsWith("disk2.s1.qcow2");
        Path keptFile = dom0.state.resolve("config").resolve(Dom0.uuid(DOMID)).resolve("s1.libxl-json");
        assertThat(Files.getPosixFilePermissions(keptFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(keptFile.getParent()))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        expect(SnapshotError.NO_SUCH_SNAPSHOT, () -> engine.domainConfig(DOM, "s2"));

        engine.delete(DOM, "s1");
        assertThat(keptFile).doesNotExist();
    }

    @Test
    void aSecondSnapshotIsAChildOfTheFirstAndExternalOnQcow2Works() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        Path ov = dom0.images.resolve("vm7/a-s2.qcow2");
        SnapshotInfo s2 = engine.create(new SnapshotRequest(DOM, "s2", "",
                List.of(DiskSpec.external("xvda", ov), DiskSpec.internal("xvdb"))));

        assertThat(s2.parent()).isEqualTo("s1");
        assertThat(dom0.rootFile(DOMID, "xvda")).isEqualTo(ov.toString());
        assertThat(Dom0.chain(ov)).containsExactly(ov.toString(), image(0).toString());
        assertThat(dom0.internalSnapshots(DOMID, "xvdb")).containsExactly("s1", "s2");
        assertThat(dom0.backendParams(DOMID, "xvda")).isEqualTo("qcow2:" + ov);
        assertThat(engine.list(DOM).children("s1")).extracting(SnapshotInfo::name).containsExactly("s2");
    }

    @Test
    void externalSnapshotsTakenBackToBackEachGetANodeNameQemuDoesNotHaveYet() throws Exception {
        // a name made from the clock and the snapshot's name once collided with the previous overlay's
        // ("New overlay node-name already in use" on the third of five creates a few milliseconds apart)
        List<String> nodes = new java.util.ArrayList<>();
        Path top = image(0);
        for (int i = 0; i < 12; i++) {
            top = dom0.images.resolve("vm7/a-e" + i + ".qcow2");
            engine.create(new SnapshotRequest(DOM, "e" + i, "", List.of(DiskSpec.external("xvda", top))));
            nodes.add(dom0.device(DOMID, "xvda").path("inserted").path("node-name").asText());
        }
        assertThat(nodes).doesNotHaveDuplicates().allMatch(n -> n.startsWith("xs-xvda-") && n.length() <= 31);
        assertThat(Dom0.chain(top)).hasSize(13);
        assertThat(dom0.rootFile(DOMID, "xvda")).isEqualTo(top.toString());
    }

    @Test
    void aDomidThatPassesToAnotherDomainWhileARequestWaitsForItsLockIsRefused() throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SnapshotEngine hooked = dom0.engine(new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) throws Exception {
                if (plan.name().equals("first")) {
                    holding.countDown();
                    release.await();
                }
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<SnapshotInfo> first = pool.submit(() -> hooked.create(SnapshotRequest.allDisks(DOM, "first", "")));
            assertThat(holding.await(20, TimeUnit.SECONDS)).isTrue();
            AtomicReference<Thread> waiter = new AtomicReference<>();
            Future<SnapshotError> second = pool.submit(() -> {
                waiter.set(Thread.currentThread());
                return Faults.code(() -> hooked.create(SnapshotRequest.allDisks(DOM, "second", "")));
            });
            // the second request has read domid 7's uuid and waits for that domain's lock...
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!waitsForADomainLock(waiter.get())) {
                assertThat(System.nanoTime()).as("the second request reached the lock").isLessThan(deadline);
                Thread.sleep(10);
            }
            // ...while domid 7 becomes another domain (as if destroyed and the domid given to a new one)
            String other = Dom0.uuid(4242);
            dom0.host.cli().write("/vm/" + other + "/uuid", other, "/local/domain/" + DOMID + "/vm", "/vm/" + other);
            release.countDown();
            first.get(30, TimeUnit.SECONDS);
            assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(SnapshotError.INVALID_STATE);
            assertThat(new CatalogStore(dom0.state).exists(other)).as("nothing written for the other domain").isFalse();
            assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).snapshots())
                    .extracting(SnapshotInfo::name).containsExactly("first");
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    private static boolean waitsForADomainLock(Thread t) {
        return t != null && Arrays.stream(t.getStackTrace()).anyMatch(
                f -> f.getClassName().equals(DomainLocks.class.getName()) && f.getMethodName().equals("acquire"));
    }

    @Test
    void aTransactionRefusedByQemuLeavesEverythingAsItWas() throws Exception {
        Path gone = Files.createDirectories(dom0.images.resolve("vanishing"));
        String before = dom0.fingerprint();
        EngineHooks removeDirectory = new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) throws Exception {
                // xensnap made the overlays before the transaction; QEMU opens them by path and finds xvdc's gone
                Files.delete(gone.resolve("c-s1.qcow2"));
                Files.delete(gone);
            }
        };
        SnapshotEngine faulty = dom0.engine(removeDirectory);

        assertThatThrownBy(() -> faulty.create(new SnapshotRequest(DOM, "s1", "", List.of(
                DiskSpec.internal("xvda"),
                DiskSpec.external("xvdb", dom0.images.resolve("vm7/b-s1.qcow2")),
                DiskSpec.external("xvdc", gone.resolve("c-s1.qcow2"))))))
                .isInstanceOf(SnapshotException.class)
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.HYPERVISOR_ERROR))
                .hasMessageContaining("Could not open");

        Files.createDirectories(gone);
        assertThat(dom0.fingerprint()).as("chains, snapshots, files, xenstore, JSON, catalog").isEqualTo(before);
        assertThat(dom0.images.resolve("vm7/b-s1.qcow2")).as("the overlay made for the transaction").doesNotExist();
        assertThat(engine.list(DOM).snapshots()).isEmpty();
    }

    @Test
    void refusedRequestsChangeNothingAndSayWhy() throws Exception {
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"))));
        Files.writeString(dom0.images.resolve("vm7/taken.qcow2"), "someone's data");
        String before = dom0.fingerprint();

        expect(SnapshotError.NO_SUCH_DOMAIN, () -> engine.create(SnapshotRequest.allDisks(DomainRef.running(99), "x", "")));
        expect(SnapshotError.NO_SUCH_DISK, () -> engine.create(
                new SnapshotRequest(DOM, "x", "", List.of(DiskSpec.internal("xvdz")))));
        expect(SnapshotError.UNSUPPORTED, () -> engine.create(
                new SnapshotRequest(DOM, "x", "", List.of(DiskSpec.internal("xvda"), DiskSpec.internal("xvdc")))));
        expect(SnapshotError.SNAPSHOT_EXISTS, () -> engine.create(SnapshotRequest.allDisks(DOM, "s1", "")));
        expect(SnapshotError.SNAPSHOT_EXISTS, () -> engine.create(new SnapshotRequest(DOM, "x", "",
                List.of(DiskSpec.external("xvda", dom0.images.resolve("vm7/taken.qcow2"))))));
        expect(SnapshotError.INVALID_ARGUMENT, () -> engine.create(new SnapshotRequest(DOM, "x", "",
                List.of(DiskSpec.external("xvda", Path.of("/tmp/outside-the-roots.qcow2"))))));
        expect(SnapshotError.INVALID_ARGUMENT, () -> engine.create(new SnapshotRequest(DOM, "x", "",
                List.of(DiskSpec.external("xvda", dom0.images.resolve("no-such-dir/x.qcow2"))))));
        expect(SnapshotError.INVALID_STATE, () -> engine.revert(DOM, "s1"));
        expect(SnapshotError.NO_SUCH_SNAPSHOT, () -> engine.delete(DOM, "nope"));
        expect(SnapshotError.INVALID_ARGUMENT, () -> engine.get(DOM, "../etc"));
        DomainRef stranger = DomainRef.shutOff("00000000-0000-4000-8000-00000000dead", List.of());
        expect(SnapshotError.NO_SUCH_DOMAIN, () -> engine.list(stranger));
        expect(SnapshotError.NO_SUCH_DOMAIN, () -> engine.get(stranger, "s1"));
        assertThat(engine.list(DomainRef.shutOff(Dom0.uuid(DOMID), List.of())).snapshots())
                .as("a running domain named by its uuid").hasSize(1);

        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void aPhyDiskOfARunningDomainIsRefusedWithTheReason() throws Exception {
        dom0.domain(9, List.of(XenHost.Disk.of("xvdd", XenHost.Backend.PHY,
                XenHost.Format.RAW, Path.of("/dev/vg0/vm9-data"))));
        String before = dom0.fingerprint();
        DomainRef vm9 = DomainRef.running(9);

        for (DiskSpec spec : List.of(DiskSpec.internal("xvdd"), DiskSpec.external("xvdd", null))) {
            assertThatThrownBy(() -> engine.create(new SnapshotRequest(vm9, "s1", "", List.of(spec))))
                    .isInstanceOf(SnapshotException.class).hasMessageContaining("blkback")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.UNSUPPORTED));
        }
        assertThatThrownBy(() -> engine.create(SnapshotRequest.allDisks(vm9, "s1", "")))
                .hasMessageContaining("xvdd").hasMessageContaining("blkback");
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void anInternalNameTakenOnDisk2OutsideXensnapIsRefusedBeforeAnythingChanges() throws Exception {
        String node = dom0.device(DOMID, "xvdb").path("inserted").path("node-name").asText();
        RawQmp.execute(dom0.host.qmpSocketPath(DOMID), java.time.Duration.ofSeconds(5),
                "{\"execute\":\"blockdev-snapshot-internal-sync\",\"arguments\":{\"device\":\"" + node
                        + "\",\"name\":\"dup\"}}");
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> engine.create(new SnapshotRequest(DOM, "dup", "", List.of(
                DiskSpec.internal("xvda"), DiskSpec.internal("xvdb"), DiskSpec.external("xvdc", null)))))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("xvdb")
                .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.SNAPSHOT_EXISTS));
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void revertToAnOlderExternalSnapshotGivesANewOverlayWhenTheCurrentOneIsFrozen() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        Path s1Overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x55);
        // now qcow2: the default is internal, so s2 lives inside s1's overlay and freezes it
        engine.create(SnapshotRequest.allDisks(DOM, "s2", ""));
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());

        assertThatThrownBy(() -> engine.delete(off, "s1")).hasMessageContaining("delete s2 first");
        RevertResult r = engine.revert(off, "s1");

        Path fresh = r.disks().stream().filter(d -> d.vdev().equals("xvdc")).findFirst().orElseThrow().image();
        assertThat(fresh).isNotEqualTo(s1Overlay).isEqualTo(image(2).resolveSibling("disk2.s1-revert.qcow2"));
        assertThat(RealQemu.hasPattern(fresh, RealQemu.Format.QCOW2, 0x43)).isTrue();
        assertThat(RealQemu.hasPattern(s1Overlay, RealQemu.Format.QCOW2, 0x55)).as("s2's image untouched").isTrue();
        assertThat(engine.list(off).current()).isEqualTo("s1");
        // and back to s2: its internal snapshot lives in the old overlay, which is not the disk's image any more
        assertThatThrownBy(() -> engine.revert(off, "s2")).hasMessageContaining("now runs on " + fresh);
    }

    @Test
    void revertOfAShutOffDomainBringsEveryDiskBackByContent() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        dom0.guestWrites(DOMID, "xvda", 0x91);
        dom0.guestWrites(DOMID, "xvdb", 0x92);
        dom0.guestWrites(DOMID, "xvdc", 0x93);
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.shutDown(DOMID, qemu);
        assertThat(RealQemu.hasPattern(image(0), RealQemu.Format.QCOW2, 0x91)).isTrue();

        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        RevertResult r = engine.revert(off, "s1");

        assertThat(RealQemu.hasPattern(image(0), RealQemu.Format.QCOW2, 0x41)).isTrue();
        assertThat(RealQemu.hasPattern(image(1), RealQemu.Format.QCOW2, 0x42)).isTrue();
        // the raw disk's overlay was not needed by any snapshot: replaced by a fresh one at the same path
        assertThat(r.disks()).contains(new DiskImage("xvdc", overlay, DiskFormat.QCOW2));
        assertThat(RealQemu.hasPattern(overlay, RealQemu.Format.QCOW2, 0x43)).isTrue();
        assertThat(Dom0.chain(overlay)).containsExactly(overlay.toString(), image(2).toString());
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x43)).as("the frozen image").isTrue();
        assertThat(engine.list(off).current()).isEqualTo("s1");
        try (var files = Files.list(overlay.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("xensnap"));
        }
        assertThat(dom0.engine().list(off).snapshots()).extracting(SnapshotInfo::name).containsExactly("s1");
    }

    @Test
    void offlineCreateAndDeleteWorkWithQemuImg() throws Exception {
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of(
                new DiskImage("xvda", image(0), DiskFormat.QCOW2),
                new DiskImage("xvdc", image(2), DiskFormat.RAW)));

        SnapshotInfo s = engine.create(SnapshotRequest.allDisks(off, "cold", ""));
        assertThat(engine.domainConfig(off, "cold")).as("a shut-off domain has no config of libxl's").isEmpty();
        Path ov = image(2).resolveSibling("disk2.cold.qcow2");
        assertThat(s.disks()).extracting(d -> d.vdev() + ":" + d.kind()).containsExactly("xvda:INTERNAL", "xvdc:EXTERNAL");
        assertThat(Dom0.chain(ov)).containsExactly(ov.toString(), image(2).toString());

        DomainRef remembered = DomainRef.shutOff(Dom0.uuid(DOMID), List.of());
        engine.delete(remembered, "cold");
        assertThat(ov).doesNotExist();
        assertThat(engine.list(remembered).snapshots()).isEmpty();
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", image(0).toString()).output())
                .doesNotContain("cold");
    }

    @Test
    void revertNeverReplacesAnImageXensnapDidNotMake() throws Exception {
        dom0.shutDown(DOMID, qemu);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), List.of(new DiskImage("xvdc", image(2), DiskFormat.RAW)));
        engine.create(SnapshotRequest.allDisks(off, "s1", ""));
        Path users = dom0.images.resolve("vm7/users-own.qcow2");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", users.toString(), "64M");
        String usersBefore = Files.readString(users, java.nio.charset.StandardCharsets.ISO_8859_1);

        RevertResult r = engine.revert(DomainRef.shutOff(Dom0.uuid(DOMID),
                List.of(new DiskImage("xvdc", users, DiskFormat.QCOW2))), "s1");

        assertThat(r.disks()).containsExactly(new DiskImage("xvdc",
                image(2).resolveSibling("disk2.s1-revert.qcow2"), DiskFormat.QCOW2));
        assertThat(Files.readString(users, java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo(usersBefore);
        assertThat(RealQemu.hasPattern(r.disks().get(0).image(), RealQemu.Format.QCOW2, 0x43)).isTrue();
    }

    @Test
    void deleteOfAnExternalSnapshotNothingWasWrittenToMergesAnEmptyOverlay() throws Exception {
        // an internal snapshot in the frozen image survives the merge and does not block it
        engine.create(SnapshotRequest.allDisks(DOM, "s0", ""));
        engine.create(new SnapshotRequest(DOM, "n1", "", List.of(DiskSpec.external("xvda", null))));

        engine.delete(DOM, "n1");

        assertThat(dom0.rootFile(DOMID, "xvda")).isEqualTo(image(0).toString());
        assertThat(dom0.backendParams(DOMID, "xvda")).isEqualTo("qcow2:" + image(0));
        assertThat(RealQemu.hasPattern(image(0), RealQemu.Format.QCOW2, 0x41)).isTrue();
        assertThat(dom0.internalSnapshots(DOMID, "xvda")).containsExactly("s0");
        assertThat(engine.list(DOM).current()).isEqualTo("s0");
    }

    @Test
    void deleteWhileRunningMergesTheOverlayBackAndTheDomainFollows() throws Exception {
        engine.create(SnapshotRequest.allDisks(DOM, "s1", ""));
        Path overlay = Path.of(dom0.rootFile(DOMID, "xvdc"));
        dom0.guestWrites(DOMID, "xvdc", 0x77);

        engine.delete(DOM, "s1");

        assertThat(dom0.internalSnapshots(DOMID, "xvda")).isEmpty();
        assertThat(dom0.rootFile(DOMID, "xvdc")).isEqualTo(image(2).toString());
        assertThat(overlay).doesNotExist();
        assertThat(RealQemu.hasPattern(image(2), RealQemu.Format.RAW, 0x77)).as("the guest's write survived").isTrue();
        assertThat(dom0.backendParams(DOMID, "xvdc")).isEqualTo("aio:" + image(2));
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("pdev_path").asText()).isEqualTo(image(2).toString());
        assertThat(dom0.libxlDisk(DOMID, "xvdc").get("format").asText()).isEqualTo("raw");
        assertThat(engine.list(DOM).snapshots()).isEmpty();
        assertThat(engine.list(DOM).current()).isNull();
    }

    @Test
    void createsOnOneDomainSerializeAndOtherDomainsRunAlongside() throws Exception {
        dom0.domain(8);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<SnapshotInfo>> jobs = List.of(
                    () -> engine.create(new SnapshotRequest(DOM, "a1", "", List.of(DiskSpec.internal("xvda")))),
                    () -> engine.create(new SnapshotRequest(DOM, "a2", "", List.of(DiskSpec.internal("xvda")))),
                    () -> engine.create(new SnapshotRequest(DomainRef.running(8), "b1", "", List.of(DiskSpec.internal("xvdb")))),
                    () -> engine.create(new SnapshotRequest(DomainRef.running(8), "b2", "", List.of(DiskSpec.internal("xvdb")))));
            List<Future<SnapshotInfo>> done = pool.invokeAll(jobs, 60, TimeUnit.SECONDS);
            for (Future<SnapshotInfo> f : done) {
                assertThat(f.get().name()).isNotEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
        SnapshotTree t7 = engine.list(DOM);
        assertThat(t7.snapshots()).extracting(SnapshotInfo::name).containsExactlyInAnyOrder("a1", "a2");
        assertThat(t7.roots()).hasSize(1);
        assertThat(dom0.internalSnapshots(DOMID, "xvda")).containsExactlyInAnyOrder("a1", "a2");
        assertThat(engine.list(DomainRef.running(8)).snapshots()).hasSize(2);
    }

    @ParameterizedTest
    @EnumSource(RealXenstored.Profile.class)
    void theCatalogSurvivesANewEngineOnBothDaemons(RealXenstored.Profile profile) throws Exception {
        try (Dom0 other = new Dom0(profile)) {
            other.domain(3);
            other.engine().create(SnapshotRequest.allDisks(DomainRef.running(3), "s1", ""));
            SnapshotTree again = other.engine().list(DomainRef.running(3));
            assertThat(again.current()).isEqualTo("s1");
            assertThat(again.snapshots().get(0).disks()).hasSize(3);
        }
    }

    private static void expect(SnapshotError code, ThrowingCall call) {
        assertThatThrownBy(call::run).isInstanceOf(SnapshotException.class)
                .satisfies(e -> assertThat(((SnapshotException) e).code()).as(e.getMessage()).isEqualTo(code));
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
