package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.xensnap.api.DiskImage;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.harness.Devid;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.create.CreatePlan;

/** Fault injection and the checks every fault test ends with. */
public final class Faults {

    private Faults() {
    }

    /**
     * Thrown from a hook: the process dies right there. An {@link Error}, so none of the engine's catch blocks (and so
     * no undo) runs; only {@code finally} blocks do, as the kernel closing descriptors and dropping flocks would.
     */
    public static final class SimulatedCrash extends Error {
        private static final long serialVersionUID = 1L;

        public SimulatedCrash(String where) {
            super("simulated crash " + where);
        }
    }

    /** The points between two writes of an operation where the process can die. */
    public enum Point {
        BEFORE_TRANSACTION, AFTER_POINT_OF_NO_RETURN, AFTER_LIBXL_CONFIG, AFTER_XENSTORE,
        BEFORE_MERGE, MERGING, AFTER_MERGE, BEFORE_DELETE_COMMIT
    }

    /** @return hooks that run {@code action} at {@code point} */
    public static EngineHooks at(Point point, EngineHooks.Step action) {
        return new EngineHooks() {
            @Override
            public void beforeTransaction(CreatePlan plan) throws Exception {
                if (point == Point.BEFORE_TRANSACTION) {
                    action.run();
                }
            }

            @Override
            public void afterPointOfNoReturn(CreatePlan plan) throws Exception {
                if (point == Point.AFTER_POINT_OF_NO_RETURN) {
                    action.run();
                }
            }

            @Override
            public void afterLibxlConfig(CreatePlan plan) throws Exception {
                if (point == Point.AFTER_LIBXL_CONFIG) {
                    action.run();
                }
            }

            @Override
            public void afterXenstore(CreatePlan plan) throws Exception {
                if (point == Point.AFTER_XENSTORE) {
                    action.run();
                }
            }

            @Override
            public void beforeMerge(String domainUuid, String snapshot) throws Exception {
                if (point == Point.BEFORE_MERGE) {
                    action.run();
                }
            }

            @Override
            public void merging(String domainUuid, String snapshot, String vdev, String status) throws Exception {
                if (point == Point.MERGING) {
                    action.run();
                }
            }

            @Override
            public void afterMerge(String domainUuid, String snapshot) throws Exception {
                if (point == Point.AFTER_MERGE) {
                    action.run();
                }
            }

            @Override
            public void beforeDeleteCommit(String domainUuid, String snapshot) throws Exception {
                if (point == Point.BEFORE_DELETE_COMMIT) {
                    action.run();
                }
            }
        };
    }

    /** @return hooks under which the process dies at {@code point} */
    public static EngineHooks crashAt(Point point) {
        return at(point, () -> {
            throw new SimulatedCrash("at " + point);
        });
    }

    /** Sends {@code signal} (STOP, CONT, KILL) to {@code pid} with kill(1). */
    static void signal(long pid, String signal) {
        ShortCommand.ok("kill", "-" + signal, Long.toString(pid));
    }

    public static SnapshotError code(ThrowingCall call) {
        try {
            call.run();
        } catch (SnapshotException e) {
            return e.code();
        } catch (Exception e) {
            throw new AssertionError("expected a SnapshotException, got " + e, e);
        }
        throw new AssertionError("expected a SnapshotException, the call succeeded");
    }

    @FunctionalInterface
    public interface ThrowingCall {
        void run() throws Exception;
    }

    /**
     * The four views of a running domain agree for every disk: QEMU's root, the xenstore backend (and libxl's copy),
     * libxl's stored config and the catalog; and the image headers' chain is QEMU's chain.
     */
    public static void assertViewsAgree(Dom0 dom0, int domid) throws Exception {
        DomainCatalog catalog = new CatalogStore(dom0.state).load(Dom0.uuid(domid));
        for (String vdev : List.of("xvda", "xvdb", "xvdc")) {
            String root = dom0.rootFile(domid, vdev);
            String params = dom0.backendParams(domid, vdev);
            int devid = Devid.of(vdev);
            String libxlCopy = dom0.xenstoreRead("/libxl/" + domid + "/device/vbd/" + devid + "/params");
            String pdev = dom0.libxlDisk(domid, vdev).get("pdev_path").asText();
            assertThat(params).as(vdev + ": xenstore backend vs QEMU").endsWith(":" + root);
            assertThat(libxlCopy).as(vdev + ": libxl's xenstore copy").isEqualTo(params);
            assertThat(pdev).as(vdev + ": libxl config vs QEMU").isEqualTo(root);
            catalog.disks().stream().filter(d -> d.vdev().equals(vdev)).findFirst().ifPresent(d ->
                    assertThat(d.image().toString()).as(vdev + ": catalog vs QEMU").isEqualTo(root));
            List<String> qemuChain = new ArrayList<>();
            for (JsonNode img = dom0.device(domid, vdev).path("inserted").path("image"); img.has("filename");
                 img = img.path("backing-image")) {
                qemuChain.add(img.get("filename").asText());
            }
            assertThat(Dom0.chain(Path.of(root))).as(vdev + ": image headers vs QEMU").isEqualTo(qemuChain);
        }
    }

    /** The guest sees {@code pattern} on the disk whose top image is {@code top}. */
    public static void assertData(Path top, int pattern) {
        RealQemu.Format f = top.toString().endsWith(".raw") ? RealQemu.Format.RAW : RealQemu.Format.QCOW2;
        assertThat(RealQemu.hasPattern(top, f, pattern)).as("%s holds 0x%02x", top, pattern).isTrue();
    }

    /** The guest of a running domain sees 0x41, 0x42, 0x43 on xvda, xvdb, xvdc (what the harness wrote). */
    static void assertOriginalData(Dom0 dom0, int domid) throws Exception {
        assertData(Path.of(dom0.rootFile(domid, "xvda")), 0x41);
        assertData(Path.of(dom0.rootFile(domid, "xvdb")), 0x42);
        assertData(Path.of(dom0.rootFile(domid, "xvdc")), 0x43);
    }

    /** @return the catalog's disk images of a domain, for a shut-off one */
    public static List<DiskImage> catalogDisks(Dom0 dom0, int domid) throws Exception {
        return new CatalogStore(dom0.state).load(Dom0.uuid(domid)).disks();
    }
}
