package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.XlDryRun;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.DomainState;
import io.xensnap.internal.xl.XlDomainControl;

/**
 * {@code revertAndRestart} of a disk-only snapshot on the simulated dom0: the running domain (its real QEMU) is
 * destroyed, its disks go back, and it starts again from the config the snapshot kept. xl's dry run is the real xl
 * ({@link XlDryRun}); destroying and creating a domain needs a hypervisor, so {@link XlWithoutAHypervisor} plays those
 * two on the fixture: a destroy stops the domain's QEMU and removes its xenstore nodes, a create starts QEMU on the
 * disks the real xl parsed from the xl.cfg xensnap handed it.
 */
class RestartingRevertTest {

    private static final int DOMID = 21;
    private static final int NEW_DOMID = 22;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private Dom0 dom0;
    private RealQemu qemu;
    private XlWithoutAHypervisor xl;

    @BeforeEach
    void setUp() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        writeUserdataAsLibxl();
        xl = new XlWithoutAHypervisor();
    }

    @AfterEach
    void tearDown() {
        dom0.close();
    }

    @Test
    void theDomainStartsAgainFromTheKeptConfigOnTheRevertedDisks() throws Exception {
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, xl);
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of()));
        dom0.guestWrites(DOMID, "xvda", 0x55);
        dom0.guestWrites(DOMID, "xvdc", 0x57);

        RevertResult result = engine.revertAndRestart(DOM, "s1");

        assertThat(xl.calls).containsExactly("parse", "destroy " + DOMID, "parse", "create");
        assertThat(qemu.isAlive()).as("the old domain was destroyed").isFalse();
        JsonNode started = Dom0.JSON.readTree(xl.created);
        assertThat(started.path("c_info").path("uuid").asText()).as("the domain keeps its uuid")
                .isEqualTo(Dom0.uuid(DOMID));
        List<String> startedOn = new ArrayList<>();
        started.path("disks").forEach(d -> startedOn.add(d.path("pdev_path").asText()));
        assertThat(startedOn).containsExactlyElementsOf(result.disks().stream().map(d -> d.image().toString())
                .toList());
        String xvdcFrozen = new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).snapshot("s1").orElseThrow()
                .disks().get(2).image().toString();
        assertThat(startedOn.get(2)).as("a fresh overlay, never the frozen image").isNotEqualTo(xvdcFrozen);
        assertThat(Dom0.chain(Path.of(startedOn.get(2)))).endsWith(xvdcFrozen);
        assertThat(RealQemu.hasPattern(Path.of(startedOn.get(0)), RealQemu.Format.QCOW2, 0x41))
                .as("the data of the snapshot's instant").isTrue();
        assertThat(RealQemu.hasPattern(Path.of(startedOn.get(2)), RealQemu.Format.QCOW2, 0x43)).isTrue();
        assertThat(dom0.device(NEW_DOMID, "xvdc").toString()).as("the new domain's QEMU runs on the overlay")
                .contains(startedOn.get(2));
        assertThat(new CatalogStore(dom0.state).restartConfig(Dom0.uuid(DOMID), "s1")).doesNotExist();
        assertThat(dom0.engine().reconcile(DomainRef.running(NEW_DOMID)).clean()).isTrue();
    }

    @Test
    void aKeptConfigAnXlCfgCannotCarryIsRefusedWithTheDomainRunningAndNothingChanged() throws Exception {
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, xl);
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of()));
        Path kept = new CatalogStore(dom0.state).domainConfig(Dom0.uuid(DOMID), "s1");
        ObjectNode config = (ObjectNode) Dom0.JSON.readTree(Files.readString(kept).replace("\0", ""));
        ArrayNode pci = config.putArray("pcidevs");
        pci.addObject().put("func", 1).put("dev", 2).put("bus", 3);
        Files.writeString(kept, Dom0.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n\0");
        String before = dom0.fingerprint();

        assertThatThrownBy(() -> engine.revertAndRestart(DOM, "s1")).isInstanceOfSatisfying(SnapshotException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(SnapshotError.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("pcidevs unset").contains("nothing changed");
                });
        assertThat(xl.calls).containsExactly("parse");
        assertThat(qemu.isAlive()).isTrue();
        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(new CatalogStore(dom0.state).restartConfig(Dom0.uuid(DOMID), "s1")).doesNotExist();
    }

    @Test
    void aSnapshotOfAShutOffDomainKeepsNoConfigAndIsRefused() throws Exception {
        dom0.shutDown(DOMID, qemu);
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, xl);
        DomainRef off = DomainRef.shutOff(Dom0.uuid(DOMID), qemu.disks().stream()
                .map(d -> new DiskImage(d.id(), d.image(), io.xensnap.api.DiskFormat.valueOf(d.format().name())))
                .toList());
        engine.create(new SnapshotRequest(off, "s1", "", List.of()));
        String before = dom0.fingerprint();
        assertThatThrownBy(() -> engine.revertAndRestart(off, "s1")).isInstanceOfSatisfying(SnapshotException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(SnapshotError.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("keeps no domain config");
                });
        assertThat(xl.calls).isEmpty();
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void withoutXlConfiguredTheRestartIsRefused() throws Exception {
        dom0.engine().create(new SnapshotRequest(DOM, "s1", "", List.of()));
        String before = dom0.fingerprint();
        assertThatThrownBy(() -> dom0.engine().revertAndRestart(DOM, "s1"))
                .isInstanceOfSatisfying(SnapshotException.class, e -> {
                    assertThat(e.code()).isEqualTo(SnapshotError.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("xl.path");
                });
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    @Test
    void aCreateThatFailsLeavesTheDomainShutOffOnTheRevertedDisksAndTheXlCfgForTheOperator() throws Exception {
        SnapshotEngine engine = dom0.engine(EngineHooks.NONE, xl);
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of()));
        dom0.guestWrites(DOMID, "xvda", 0x55);
        xl.createFails = true;

        assertThatThrownBy(() -> engine.revertAndRestart(DOM, "s1")).isInstanceOfSatisfying(SnapshotException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(SnapshotError.HYPERVISOR_ERROR);
                    assertThat(e.getMessage()).contains("the disks are back at snapshot s1")
                            .contains("xl create").contains("the file stays");
                });
        Path cfg = new CatalogStore(dom0.state).restartConfig(Dom0.uuid(DOMID), "s1");
        assertThat(cfg).exists();
        assertThat(Files.getPosixFilePermissions(cfg)).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
        assertThat(Files.readString(cfg)).contains("uuid = \"" + Dom0.uuid(DOMID) + "\"");
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).current()).contains("s1");
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(DOMID)).pending()).isEmpty();
    }

    /**
     * The domain's userdata as libxl writes it for a domain xl created (a PVH guest, read on a Xen 4.17 host), with
     * this domain's name, uuid and disks: the fixture's own is smaller than libxl's, and xl would parse back more.
     */
    private void writeUserdataAsLibxl() throws Exception {
        ObjectNode real;
        try (InputStream in = getClass().getResourceAsStream("/io/xensnap/internal/libxl/kept-pvh.libxl-json")) {
            real = (ObjectNode) Dom0.JSON.readTree(in.readAllBytes());
        }
        JsonNode fixture = dom0.userdata(DOMID);
        ((ObjectNode) real.get("c_info")).put("name", fixture.path("c_info").path("name").asText())
                .put("uuid", Dom0.uuid(DOMID));
        ArrayNode disks = real.putArray("disks");
        for (JsonNode d : fixture.path("disks")) {
            disks.add(((ObjectNode) d.deepCopy()).put("colo_restore_enable", "False"));
        }
        Files.writeString(dom0.host.userdataPath(DOMID),
                Dom0.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(real) + "\n\0", StandardCharsets.UTF_8);
    }

    /**
     * xl where no hypervisor runs: its dry run is the real xl's; destroy and create are played on the fixture, and
     * {@link #createFails} plays a create libxl refuses.
     */
    private final class XlWithoutAHypervisor implements DomainControl {

        final List<String> calls = new ArrayList<>();
        final XlDomainControl real = new XlDomainControl(new JdkProcessRunner(), XlDryRun.xl(), Duration.ofSeconds(30));
        boolean createFails;
        String created;

        @Override
        public String parse(Path config) throws DomainControlException {
            calls.add("parse");
            return real.parse(config);
        }

        @Override
        public void destroy(int domid) {
            calls.add("destroy " + domid);
            dom0.shutDown(domid, qemu);
        }

        @Override
        public void create(Path config) throws DomainControlException {
            calls.add("create");
            if (createFails) {
                throw new DomainControlException(DomainControlException.Reason.FAILED, List.of("xl", "create"), 3,
                        "libxl: error: out of memory", "xl create exited 3: libxl: error: out of memory", null);
            }
            created = real.parse(config);
            try {
                List<Path> tops = new ArrayList<>();
                List<RealQemu.Format> formats = new ArrayList<>();
                for (JsonNode d : Dom0.JSON.readTree(created).path("disks")) {
                    tops.add(Path.of(d.path("pdev_path").asText()));
                    formats.add(RealQemu.Format.valueOf(d.path("format").asText().toUpperCase()));
                }
                dom0.restart(NEW_DOMID, DOMID, tops, formats);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void pause(int domid) {
            throw new UnsupportedOperationException("not played");
        }

        @Override
        public void unpause(int domid) {
            throw new UnsupportedOperationException("not played");
        }

        @Override
        public void save(int domid, Path image, boolean leavePaused) {
            throw new UnsupportedOperationException("not played");
        }

        @Override
        public void restore(Path image, Optional<Path> config) {
            throw new UnsupportedOperationException("not played");
        }

        @Override
        public DomainState state(int domid) {
            throw new UnsupportedOperationException("not played");
        }
    }
}
