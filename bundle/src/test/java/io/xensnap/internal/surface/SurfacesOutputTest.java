package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import javax.management.MBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.Dom0;

/**
 * What the operator reads: the {@code snapshot:*} commands run by Karaf's own shell and the MBean over a real JMX RMI
 * connector, on the real service component, real QEMU, qemu-img and xenstored. Text xensnap did not write is shown
 * escaped; a state directory the file system refuses has its own code; a revert that rolled back says so; a failure
 * that leaves a pending mark says to reconcile; a create on a shut-off domain says which images to start from.
 */
class SurfacesOutputTest {

    private static final int RUNNING = 7;
    private static final int REVERTED = 8;

    private static Dom0 dom0;
    private static RealQemu qemu7;

    private static Surfaces surfaces;

    @BeforeAll
    static void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        surfaces = new Surfaces(dom0);
        qemu7 = dom0.domain(RUNNING);
    }

    @AfterAll
    static void stop() throws Exception {
        if (surfaces != null) {
            surfaces.close();
        }
        if (dom0 != null) {
            dom0.close();
        }
    }

    /** A catalog an older version wrote, or someone edited: its description and paths reach the screen escaped. */
    @Test
    void descriptionsAndPathsFromACatalogOnDiskAreShownEscaped() throws Exception {
        String uuid = Dom0.uuid(12);
        Path image = dom0.images.resolve("vm12/d\u001b[2J.qcow2");
        DiskSnapshot disk = new DiskSnapshot("xvda", SnapshotKind.INTERNAL, image, DiskFormat.QCOW2, null);
        new CatalogStore(dom0.state).save(new DomainCatalog(uuid, "vm12", "old",
                List.of(new DiskImage("xvda", image, DiskFormat.QCOW2)), Optional.empty(),
                List.of(new SnapshotInfo(uuid, "old", "\u001b]0;owned\u0007 \u202eedargpu", Instant.parse(
                        "2025-12-31T00:00:00Z"), null, List.of(disk)))));

        String list = run("snapshot:list " + uuid);
        String info = run("snapshot:info " + uuid + " old");
        for (String out : List.of(list, info)) {
            assertThat(out).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u202e")
                    .contains("\\x1b]0;owned\\x07 \\u202eedargpu");
        }
        assertThat(info).contains("d\\x1b[2J.qcow2");

        CompositeData got = (CompositeData) surfaces.mbean("getSnapshot", uuid, "old");
        assertThat(got.get("description")).isEqualTo("\\x1b]0;owned\\x07 \\u202eedargpu");
        TabularData rows = (TabularData) surfaces.mbean("listSnapshots", uuid);
        assertThat(rows.get(new Object[] {"old"}).get("description")).isEqualTo("\\x1b]0;owned\\x07 \\u202eedargpu");
    }

    /**
     * Root ignores permission bits, so the catalog directory and its files are made immutable: every write fails with
     * EPERM (the directory alone would still let a save append to a domain's existing journal).
     */
    @Test
    void aStateDirectoryThatCannotBeWrittenHasItsOwnCodeAndNothingChanges() throws Exception {
        Path catalogs = Files.createDirectories(dom0.state.resolve("domains"));
        String chattr = Prerequisite.CHATTR.require().toString();
        String before = dom0.fingerprint();
        ShortCommand.ok(chattr, "-R", "+i", catalogs.toString());
        try {
            assertThat(error("snapshot:create " + RUNNING + " ro1")).startsWith("[CATALOG_UNWRITABLE] catalog ")
                    .contains("Operation not permitted");
            assertThat(mbeanError("createSnapshot", RUNNING + "", "ro1", "", "")).startsWith("[CATALOG_UNWRITABLE] ");
        } finally {
            ShortCommand.ok(chattr, "-R", "-i", catalogs.toString());
        }
        assertThat(dom0.fingerprint()).isEqualTo(before);
    }

    /**
     * QEMU is stopped (SIGSTOP), so the delete's QMP greeting never comes. The delete connects (under libxl's QMP
     * lock) before it marks anything in the catalog, so the timeout leaves nothing behind: no pending mark, no advice
     * to reconcile, and the next delete simply works. The advice itself, for failures that do leave a mark, is checked
     * where such a failure can be made (a catalog that fills up after the point of no return: DiskFullTest).
     */
    @Test
    void aDeleteWhoseQmpGreetingNeverCameLeavesNothingToReconcile() throws Exception {
        surfaces.service.create(new SnapshotRequest(DomainRef.running(RUNNING), "d1", "",
                List.of(DiskSpec.internal("xvda"))));
        String before = dom0.fingerprint();

        String console = stopped(() -> error("snapshot:delete " + RUNNING + " d1"));
        assertThat(console).startsWith("[TIMEOUT] ").contains("no QMP greeting").doesNotContain("pending");
        String jmx = stopped(() -> mbeanError("deleteSnapshot", RUNNING + "", "d1"));
        assertThat(jmx).startsWith("[TIMEOUT] ").contains("no QMP greeting").doesNotContain("pending");

        assertThat(dom0.fingerprint()).isEqualTo(before);
        assertThat(new CatalogStore(dom0.state).load(Dom0.uuid(RUNNING)).pending()).isEmpty();
        assertThat(surfaces.service.reconcile(DomainRef.running(RUNNING)).unresolved()).isEmpty();
        surfaces.service.delete(DomainRef.running(RUNNING), "d1");
    }

    /**
     * xvdb's overlay lives in a directory made immutable, so its revert step fails after xvda's has finished: the
     * console must not end on "xvda reverted" and an error, but say that xvda was put back. Then a create on the
     * shut-off domain prints the images to start from, as a revert does.
     */
    @Test
    void aRevertThatRolledBackSaysSoAndAnOfflineCreateSaysWhereToStartFrom() throws Exception {
        RealQemu qemu = dom0.domain(REVERTED);
        Path separate = Files.createDirectories(dom0.images.resolve("vm" + REVERTED + "/b"));
        surfaces.service.create(new SnapshotRequest(DomainRef.running(REVERTED), "s1", "", List.of(
                DiskSpec.internal("xvda"),
                DiskSpec.external("xvdb", separate.resolve("b.s1.qcow2")))));
        dom0.shutDown(REVERTED, qemu);
        String uuid = Dom0.uuid(REVERTED);

        String chattr = Prerequisite.CHATTR.require().toString();
        String before = dom0.fingerprint();
        ShortCommand.ok(chattr, "+i", separate.toString());
        String out;
        String error;
        try {
            int from = surfaces.console().size();
            error = error("snapshot:revert " + uuid + " s1");
            out = since(from);
        } finally {
            ShortCommand.ok(chattr, "-i", separate.toString());
        }
        assertThat(out).contains("  xvda rolled back, as before the revert (1 of 1 disk)");
        assertThat(error).contains("The revert was rolled back: xvda is as before the revert.");
        assertThat(dom0.fingerprint()).isEqualTo(before);

        String created = run("snapshot:create --disks xvdc:external " + uuid + " s2");
        Path raw = qemu.disk(2).image();
        String stem = raw.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        assertThat(created).contains("Start the disks from:" + System.lineSeparator() + "  xvdc  "
                + raw.resolveSibling(stem + ".s2.qcow2") + " (qcow2)");
    }

    /** The config kept with a snapshot of a running domain, on the console (an option of info) and the MBean. */
    @Test
    void theDomainConfigKeptWithASnapshotIsShownOnRequest() throws Exception {
        byte[] userdata = Files.readAllBytes(dom0.host.userdataPath(RUNNING));
        String json = new String(userdata, 0, userdata.length - 1, StandardCharsets.UTF_8);
        run("snapshot:create --disks xvda:internal " + RUNNING + " kc");
        try {
            String plain = run("snapshot:info " + RUNNING + " kc");
            String info = run("snapshot:info --config " + RUNNING + " kc");

            assertThat(plain).doesNotContain("\"pdev_path\"");
            assertThat(info).contains("Domain config (libxl's, when the snapshot was taken):")
                    .contains(json.strip().replace("\n", System.lineSeparator()));
            assertThat(surfaces.mbean("getDomainConfig", Integer.toString(RUNNING), "kc")).isEqualTo(json);
            assertThat(error("snapshot:info --config " + RUNNING + " nope")).contains("NO_SUCH_SNAPSHOT");
        } finally {
            run("snapshot:delete " + RUNNING + " kc");
        }
    }

    private interface Failing {
        String run() throws Exception;
    }

    /** Runs {@code call} while domain 7's QEMU is stopped, so that it answers nothing, not even its greeting. */
    private static String stopped(Failing call) throws Exception {
        ShortCommand.ok("kill", "-STOP", Long.toString(qemu7.pid()));
        try {
            return call.run();
        } finally {
            ShortCommand.ok("kill", "-CONT", Long.toString(qemu7.pid()));
        }
    }

    /** @return what the command printed */
    private static String run(String line) throws Exception {
        int from = surfaces.console().size();
        surfaces.session.execute(line);
        return since(from);
    }

    /** @return what the console printed from byte {@code from} on */
    private static String since(int from) {
        byte[] all = surfaces.console().toByteArray();
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    /** @return the message the console shows for a command that must fail */
    private static String error(String line) {
        try {
            surfaces.session.execute(line);
        } catch (Exception e) {
            return e.getMessage();
        }
        throw new AssertionError(line + " succeeded");
    }

    private static String mbeanError(String operation, String... args) throws Exception {
        try {
            surfaces.mbean(operation, args);
        } catch (MBeanException e) {
            return e.getMessage();
        }
        throw new AssertionError(operation + " succeeded");
    }
}
