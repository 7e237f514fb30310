package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Dom0Fixture;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.xl.SaveImageHeader;
import io.xensnap.internal.xl.XlDomainControl;

/**
 * A snapshot with memory of a domain with a disk blkback serves (phy): the planner's refusals against the simulated
 * dom0, and the save, destroy, offline snapshots and restore in their order, with every undo. No hypervisor runs here,
 * so {@code xl} is a stand-in script named for what it plays; the real xl runs on the Xen test bed. Domain 21 has no
 * QEMU (as none is asked): a qcow2 qdisk xvda and a raw "device" xvdd on blkback, which is a file here.
 */
class RestoringCreateTest {

    private static final int DOMID = 21;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final List<DiskSpec> DISKS = List.of(DiskSpec.internal("xvda"), DiskSpec.external("xvdd", null));

    @TempDir
    Path xlDir;

    private Dom0 dom0;
    private Path root;
    private Path device;
    private Path overlay;

    @BeforeEach
    void setUp() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        Path dir = Files.createDirectories(dom0.images.resolve("vm" + DOMID));
        root = dir.resolve("root.qcow2");
        device = dir.resolve("dev.raw");
        overlay = dir.resolve("dev.m1.qcow2");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", root.toString(), "16M");
        byte[] data = new byte[16 << 20];
        Arrays.fill(data, 0, 1 << 20, (byte) 0x44);
        Files.write(device, data);
        dom0.host.addDomain(new XenHost.Domain(DOMID, "vm" + DOMID, Dom0.uuid(DOMID), List.of(
                XenHost.Disk.of("xvda", XenHost.Backend.QDISK, XenHost.Format.QCOW2, root),
                XenHost.Disk.of("xvdd", XenHost.Backend.PHY, XenHost.Format.RAW, device))));
        Files.write(xlDir.resolve("state"), "running\n".getBytes(StandardCharsets.US_ASCII));
    }

    @AfterEach
    void tearDown() {
        dom0.close();
    }

    @Test
    void aPhyDiskWithoutMemoryIsRefusedAskingForASnapshotWithMemory() throws Exception {
        String before = dom0.fingerprint();
        expect(SnapshotError.UNSUPPORTED, new SnapshotRequest(DOM, "m1", "", DISKS), "--memory", "blkback");
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void anInternalSnapshotOfAPhyDiskIsRefusedEvenWithMemory() throws Exception {
        String before = dom0.fingerprint();
        expect(SnapshotError.UNSUPPORTED, withMemory(List.of(DiskSpec.internal("xvda"), DiskSpec.internal("xvdd"))),
                "snapshot table");
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void hvmStubDomainsAndDeprivilegedDeviceModelsAreRefused() throws Exception {
        Path userdata = dom0.host.userdataPath(DOMID);
        byte[] original = Files.readAllBytes(userdata);
        String[][] shapes = {{"c_info", "type", "hvm", "HVM"}, {"b_info", "device_model_stubdomain", "True",
                "stub domain"}, {"b_info", "dm_restrict", "True", "dm_restrict"}};
        for (String[] shape : shapes) {
            Files.write(userdata, original);
            ObjectNode config = (ObjectNode) dom0.userdata(DOMID);
            ((ObjectNode) config.get(shape[0])).put(shape[1], shape[2]);
            Files.write(userdata, (Dom0.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n\0")
                    .getBytes(StandardCharsets.UTF_8));
            String before = dom0.fingerprint();
            expect(SnapshotError.UNSUPPORTED, withMemory(DISKS), shape[3]);
            assertThat(dom0.fingerprint()).as(shape[1]).isEqualTo(before);
        }
        assertThat(xlDir.resolve("calls")).as("xl is never run for a refused request").doesNotExist();
    }

    @Test
    void thePhyDiskComesBackOnItsOverlayAsAQdiskInQcow2() throws Exception {
        String deviceBefore = sha(device);
        SnapshotInfo info = engine(xl("xl-without-a-hypervisor", "", "")).create(withMemory(DISKS));

        Path image = info.memory().image();
        assertThat(calls()).containsExactly("list " + DOMID, "save -p " + DOMID + " " + image, "destroy " + DOMID,
                "restore " + image + ".restore");
        JsonNode restored = config(xlDir.resolve("restored.0"));
        JsonNode xvdd = disk(restored, "xvdd");
        assertThat(xvdd.get("backend").asText()).isEqualTo("qdisk");
        assertThat(xvdd.get("format").asText()).isEqualTo("qcow2");
        assertThat(xvdd.get("pdev_path").asText()).isEqualTo(overlay.toString());
        assertThat(xvdd.has("script")).as("libxl refuses a qdisk with a hotplug script").isFalse();
        assertThat(disk(restored, "xvda")).isEqualTo(disk(config(image), "xvda"));

        assertThat(Dom0.chain(overlay)).containsExactly(overlay.toString(), device.toString());
        assertThat(ShortCommand.ok("qemu-img", "info", "--output=json", overlay.toString()).output())
                .contains("\"backing-filename-format\": \"raw\"");
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", root.toString()).output()).contains("m1");
        assertThat(sha(device)).as("the device is frozen from the snapshot on").isEqualTo(deviceBefore);
        assertThat(Path.of(image + ".restore")).doesNotExist();
        assertThat(info.disks()).containsExactly(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, root, DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdd", SnapshotKind.EXTERNAL, device, DiskFormat.RAW, overlay));
        assertThat(info.memory().sizeBytes()).isEqualTo(Files.size(image));
        DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(DOMID));
        assertThat(catalog.pending()).isEmpty();
        assertThat(catalog.disks()).extracting(d -> d.image()).containsExactly(root, overlay);
        assertThat(dom0.engine().domainConfig(DOM, "m1").orElseThrow()).as("the config kept: as it was")
                .contains("\"phy\"");
    }

    /**
     * {@code xl block-attach phy:/dev/loop0,xvdc,w} leaves the backend to libxl, which picks blkback for a device: the
     * disk's config then names no backend at all (seen on the real host). The revert must still restore it as a
     * qdisk, explicitly and without a hotplug script.
     */
    @Test
    void aRevertRestoresAsAQdiskAlsoADiskWhoseConfigNamesNoBackend() throws Exception {
        Path userdata = dom0.host.userdataPath(DOMID);
        ObjectNode config = (ObjectNode) dom0.userdata(DOMID);
        for (JsonNode d : config.get("disks")) {
            if (d.get("vdev").asText().equals("xvdd")) {
                ((ObjectNode) d).remove("backend");
            }
        }
        Files.write(userdata, (Dom0.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n\0")
                .getBytes(StandardCharsets.UTF_8));
        SnapshotEngine engine = engine(xl("xl-without-a-hypervisor", "", ""));
        SnapshotInfo info = engine.create(withMemory(DISKS));
        assertThat(disk(config(info.memory().image()), "xvdd").has("backend")).as("the snapshot's config").isFalse();
        Dom0Fixture.removeDomainNodes(dom0.host.cli(), DOMID, Dom0.uuid(DOMID));
        dom0.host.cli().rm("/local/domain/0/backend/vbd/" + DOMID);
        Files.delete(xlDir.resolve("calls"));

        engine.revert(DomainRef.shutOff(Dom0.uuid(DOMID), List.of()), "m1");

        JsonNode xvdd = disk(config(xlDir.resolve("restored.1")), "xvdd");
        assertThat(xvdd.path("backend").asText()).as("named qdisk, not left to libxl").isEqualTo("qdisk");
        assertThat(xvdd.get("format").asText()).isEqualTo("qcow2");
        assertThat(xvdd.has("script")).isFalse();
    }

    @Test
    void aRevertToItRestoresTheFormerPhyDiskAsAQdiskOnItsFreshOverlay() throws Exception {
        SnapshotEngine engine = engine(xl("xl-without-a-hypervisor", "", ""));
        SnapshotInfo info = engine.create(withMemory(DISKS));
        Dom0Fixture.removeDomainNodes(dom0.host.cli(), DOMID, Dom0.uuid(DOMID));
        dom0.host.cli().rm("/local/domain/0/backend/vbd/" + DOMID);
        Files.delete(xlDir.resolve("calls"));

        engine.revert(DomainRef.shutOff(Dom0.uuid(DOMID), List.of()), "m1");

        Path image = info.memory().image();
        assertThat(calls()).containsExactly("restore " + image + ".restore");
        JsonNode xvdd = disk(config(xlDir.resolve("restored.1")), "xvdd");
        assertThat(xvdd.get("backend").asText()).as("blkback cannot serve the qcow2 overlay").isEqualTo("qdisk");
        assertThat(xvdd.get("format").asText()).isEqualTo("qcow2");
        assertThat(xvdd.has("script")).isFalse();
        assertThat(Dom0.chain(Path.of(xvdd.get("pdev_path").asText()))).endsWith(device.toString());
    }

    @Test
    void aFailedRestoreOnTheOverlaysRestoresTheDomainAsItWasAndLeavesNothing() throws Exception {
        String before = dom0.fingerprint();
        String deviceBefore = sha(device);
        SnapshotEngine engine = engine(xl("xl-whose-restore-on-the-overlays-fails", "",
                "case \"$2\" in *.restore) echo 'libxl: error: cannot restore' >&2; exit 1;; esac;"));

        assertThatThrownBy(() -> engine.create(withMemory(DISKS))).isInstanceOfSatisfying(SnapshotException.class,
                e -> {
                    assertThat(e.code()).as("xl ran and failed").isEqualTo(SnapshotError.HYPERVISOR_ERROR);
                    assertThat(e.getMessage()).contains("xl restore of the domain on the new images failed");
                });

        Path image = new CatalogStore(dom0.state).memoryImage(Dom0.uuid(DOMID), "m1");
        assertThat(calls()).containsExactly("list " + DOMID, "save -p " + DOMID + " " + image, "destroy " + DOMID,
                "restore " + image + ".restore", "restore " + image);
        assertThat(Files.readAllBytes(xlDir.resolve("restored.1"))).as("the domain comes back from the original")
                .isEqualTo(Files.readAllBytes(xlDir.resolve("saved.xlsave")));
        assertThat(sha(device)).isEqualTo(deviceBefore);
        assertThat(dom0.fingerprint()).as("no overlay, no internal snapshot, no save image, no catalog")
                .isEqualTo(before);
    }

    @Test
    void aFailedDestroyLetsThePausedDomainRunAgainAndLeavesNothing() throws Exception {
        String before = dom0.fingerprint();
        SnapshotEngine engine = engine(xl("xl-whose-destroy-fails",
                "echo 'libxl: error: cannot destroy' >&2; exit 1;", ""));

        assertThatThrownBy(() -> engine.create(withMemory(DISKS))).isInstanceOfSatisfying(SnapshotException.class,
                e -> assertThat(e.getMessage()).contains("xl destroy of the saved domain failed"));

        assertThat(calls()).endsWith("destroy " + DOMID, "list " + DOMID, "unpause " + DOMID);
        assertThat(Files.readString(xlDir.resolve("state")).strip()).isEqualTo("running");
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void aDomainThatCannotBeRestoredKeepsItsSaveImageAndMarkAndReconcileBringsItBack() throws Exception {
        String before = dom0.fingerprint();
        SnapshotEngine failing = engine(xl("xl-that-restores-nothing", "",
                "echo 'libxl: error: out of memory' >&2; exit 1;"));
        assertThatThrownBy(() -> failing.create(withMemory(DISKS))).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("its save image").hasMessageContaining("reconcile " + Dom0.uuid(DOMID));
        Path image = new CatalogStore(dom0.state).memoryImage(Dom0.uuid(DOMID), "m1");
        assertThat(image).as("what brings the domain back stays").exists();
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending()).get()
                .extracting(PendingOperation::kind).isEqualTo(PendingOperation.Kind.CREATE_SAVED);
        assertThat(overlay).as("the disks' own undo ran before the failed restore").doesNotExist();

        // the domain is gone from xenstore, as after xl destroy
        Dom0Fixture.removeDomainNodes(dom0.host.cli(), DOMID, Dom0.uuid(DOMID));
        dom0.host.cli().rm("/local/domain/0/backend/vbd/" + DOMID);
        Files.delete(xlDir.resolve("calls"));
        ReconcileReport report = engine(xl("xl-without-a-hypervisor", "", ""))
                .reconcile(DomainRef.shutOff(Dom0.uuid(DOMID), List.of()));

        assertThat(report.findings()).extracting(ReconcileReport.Finding::code)
                .contains(ReconcileReport.Code.CREATE_ROLLED_BACK);
        assertThat(calls()).containsExactly("restore " + image);
        assertThat(image).doesNotExist();
        assertThat(Files.exists(new CatalogStore(dom0.state).file(Dom0.uuid(DOMID)))).isFalse();
        assertThat(ShortCommand.ok("qemu-img", "snapshot", "-l", root.toString()).output()).doesNotContain("m1");
        assertThat(before).isNotNull();
    }

    @Test
    void aCrashJustBeforeTheRestoreOnTheOverlaysIsFinishedByReconcile() throws Exception {
        SnapshotEngine crashing = dom0.engine(Faults.at(Faults.Point.BEFORE_TRANSACTION, () -> {
            throw new Faults.SimulatedCrash("before xl restore on the overlays");
        }), xl("xl-without-a-hypervisor", "", ""));
        assertThatThrownBy(() -> crashing.create(withMemory(DISKS))).isInstanceOf(Faults.SimulatedCrash.class);
        Path image = new CatalogStore(dom0.state).memoryImage(Dom0.uuid(DOMID), "m1");
        assertThat(Path.of(image + ".restore")).exists();

        Dom0Fixture.removeDomainNodes(dom0.host.cli(), DOMID, Dom0.uuid(DOMID));
        dom0.host.cli().rm("/local/domain/0/backend/vbd/" + DOMID);
        ReconcileReport report = engine(xl("xl-without-a-hypervisor", "", ""))
                .reconcile(DomainRef.shutOff(Dom0.uuid(DOMID), List.of()));

        // every disk holds the snapshot and the memory is saved: the snapshot is complete, the domain stays off
        assertThat(report.findings()).extracting(ReconcileReport.Finding::code)
                .contains(ReconcileReport.Code.CREATE_FINISHED);
        DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(DOMID));
        assertThat(catalog.pending()).isEmpty();
        assertThat(catalog.snapshot("m1")).get().satisfies(s -> assertThat(s.memory().image()).isEqualTo(image));
        assertThat(Path.of(image + ".restore")).doesNotExist();
    }

    @Test
    void aDomainLeftPausedByACrashBeforeItsDestroyRunsAgainAndTheCreateIsTakenBack() throws Exception {
        // the state a crash between xl save -p and xl destroy leaves: the mark, the save image, the kept config
        CatalogStore catalogs = new CatalogStore(dom0.state);
        String uuid = Dom0.uuid(DOMID);
        Path image = catalogs.memoryImage(uuid, "m1");
        Files.createDirectories(image.getParent());
        Files.copy(saved(), image);
        Files.writeString(xlDir.resolve("state"), "paused\n");
        catalogs.save(new DomainCatalog(uuid, "vm" + DOMID, null, List.of(), Optional.of(new PendingOperation(
                PendingOperation.Kind.CREATE_SAVED, "m1", Instant.parse("2026-01-01T00:00:00Z"), "", List.of(
                        new DiskSnapshot("xvda", SnapshotKind.INTERNAL, root, DiskFormat.QCOW2, null),
                        new DiskSnapshot("xvdd", SnapshotKind.EXTERNAL, device, DiskFormat.RAW, overlay)),
                image, null)), List.of()));

        ReconcileReport report = engine(xl("xl-without-a-hypervisor", "", "")).reconcile(DOM);

        assertThat(report.findings()).extracting(ReconcileReport.Finding::code)
                .contains(ReconcileReport.Code.DOMAIN_UNPAUSED, ReconcileReport.Code.CREATE_ROLLED_BACK);
        assertThat(Files.readString(xlDir.resolve("state")).strip()).isEqualTo("running");
        assertThat(image).doesNotExist();
        assertThat(Files.exists(catalogs.file(uuid))).isFalse();
    }

    private SnapshotEngine engine(XlDomainControl xl) {
        return dom0.engine(EngineHooks.NONE, xl);
    }

    private static SnapshotRequest withMemory(List<DiskSpec> disks) {
        return new SnapshotRequest(DOM, "m1", "", disks, true);
    }

    private void expect(SnapshotError code, SnapshotRequest request, String... words) {
        SnapshotEngine engine = engine(xl("xl-without-a-hypervisor", "", ""));
        assertThatThrownBy(() -> engine.create(request)).isInstanceOfSatisfying(SnapshotException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            for (String w : words) {
                assertThat(e.getMessage()).contains(w);
            }
        });
    }

    /**
     * A stand-in for xl where no hypervisor runs: it logs every call, keeps the domain's state in a file, "saves" by
     * copying an image the test wrote with xl's real save-file header (no real xl can write one on this machine), and
     * "restores" by keeping a copy of the image it was given ({@code restored.<n>}). {@code destroyFault} and
     * {@code restoreFault} are shell lines run first, to play the fault the script is named for.
     */
    private XlDomainControl xl(String name, String destroyFault, String restoreFault) {
        try {
            saved();
            String d = xlDir.toString();
            String script = "#!/bin/sh\nd='" + d + "'\necho \"$*\" >> \"$d/calls\"\ncase \"$1\" in\n"
                    + "list) s=$(cat \"$d/state\"); [ \"$s\" = destroyed ] && { echo 'invalid domain' >&2; exit 1; }\n"
                    + "  f='-b----'; [ \"$s\" = paused ] && f='--p---'\n"
                    + "  echo 'Name ID Mem VCPUs State Time(s)'; echo \"vm" + DOMID + " $2 512 1 $f 0.1\";;\n"
                    + "save) cp \"$d/saved.xlsave\" \"$4\"; echo paused > \"$d/state\";;\n"
                    + "unpause) echo running > \"$d/state\";;\n"
                    + "destroy) " + destroyFault + " echo destroyed > \"$d/state\";;\n"
                    + "restore) n=$(ls \"$d\" | grep -c '^restored'); cp \"$2\" \"$d/restored.$n\"; " + restoreFault
                    + " echo running > \"$d/state\";;\n"
                    + "esac\n";
            Path p = xlDir.resolve(name);
            Files.writeString(p, script);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            return new XlDomainControl(new JdkProcessRunner(), p, Duration.ofSeconds(20));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the stand-in "saves": xl's header as xl_saverestore.c writes it, the libxl config, a stream. */
    private Path saved() throws Exception {
        Path file = xlDir.resolve("saved.xlsave");
        if (Files.exists(file)) {
            return file;
        }
        byte[] config = dom0.userdata(DOMID).toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(52).order(ByteOrder.LITTLE_ENDIAN);
        head.put(Arrays.copyOf("Xen saved domain, xl format\n \0 \r".getBytes(StandardCharsets.ISO_8859_1), 32))
                .putInt(0x01020304).putInt(3).putInt(0).putInt(4 + config.length + 1).putInt(config.length + 1);
        out.write(head.array());
        out.write(config);
        out.write(0);
        byte[] stream = new byte[4096];
        Arrays.fill(stream, (byte) 0x5a);
        out.write(stream);
        return Files.write(file, out.toByteArray());
    }

    private List<String> calls() throws Exception {
        return Files.readAllLines(xlDir.resolve("calls"));
    }

    private static JsonNode config(Path image) throws Exception {
        return Dom0.JSON.readTree(SaveImageHeader.read(image).jsonConfig().orElseThrow());
    }

    private static JsonNode disk(JsonNode config, String vdev) {
        for (JsonNode d : config.get("disks")) {
            if (d.get("vdev").asText().equals(vdev)) {
                return d;
            }
        }
        throw new AssertionError("no disk " + vdev + " in " + config);
    }

    private static String sha(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }
}
