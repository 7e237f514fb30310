package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The stock Debian xenstored 4.17 (C or OCaml), running without a hypervisor under the project's LD_PRELOAD shim
 * ({@code xs-fakexen.c}, see docs/xen-host.md#xenstored-without-a-hypervisor), in a private run directory so that
 * several run side by side.
 *
 * <p>Nothing is written outside the run directory. cxenstored takes its socket directory from
 * {@code XENSTORED_RUNDIR}; oxenstored has {@code /var/run/xenstored/socket} compiled in and dumps
 * {@code /var/run/xenstored/db} on exit, so the shim moves those directories below the run directory
 * ({@code XS_FAKEXEN_ROOT}/{@code XS_FAKEXEN_REMAP}), and a private config file sends oxenstored's logs there too.
 * This works without mount namespaces, which a sandbox may not grant.
 */
public final class RealXenstored implements AutoCloseable {

    /** Which daemon. */
    public enum Profile {
        /** {@code xenstored}, the C daemon. */
        CXENSTORED(Prerequisite.XENSTORED),
        /** {@code oxenstored}, the OCaml daemon: what Debian's init script prefers on a dom0. */
        OXENSTORED(Prerequisite.OXENSTORED);

        private final Prerequisite binary;

        Profile(Prerequisite binary) {
            this.binary = binary;
        }

        public Prerequisite binary() {
            return binary;
        }
    }

    /** The system directories a daemon may touch; the shim moves them below the run directory. */
    static final List<String> REMAPPED = List.of("/var/run/xenstored", "/run/xenstored", "/var/run/xen", "/run/xen",
            "/var/log/xen", "/var/lib/xenstored");

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    private static final int SUN_PATH_MAX = 107;

    /*
     * The Xen calls each binary imports (nm -D --undefined-only), as reviewed against the shim. cxenstored calls all of
     * its imports, so the shim fakes every one. oxenstored links the whole OCaml xenctrl binding but, serving dom0 over
     * the socket, calls only xc_interface_open/close and the xenevtchn_* ones. A new import means a new binary: the shim
     * must be reviewed again before anyone trusts these tests.
     */
    private static final Set<String> CXENSTORED_IMPORTS = Set.of(
            "xc_domain_getinfo", "xc_interface_close", "xc_interface_open",
            "xenevtchn_bind_interdomain", "xenevtchn_bind_virq", "xenevtchn_fd", "xenevtchn_fdopen", "xenevtchn_notify",
            "xenevtchn_open", "xenevtchn_pending", "xenevtchn_unbind", "xenevtchn_unmask",
            "xengnttab_close", "xengnttab_map_grant_ref", "xengnttab_open", "xengnttab_set_max_grants", "xengnttab_unmap");
    private static final Set<String> OXENSTORED_IMPORTS = Set.of(
            "xc_assign_device", "xc_cpumap_alloc", "xc_deassign_device", "xc_domain_create", "xc_domain_destroy",
            "xc_domain_getinfolist", "xc_domain_increase_reservation_exact", "xc_domain_iomem_permission",
            "xc_domain_ioport_permission", "xc_domain_irq_permission", "xc_domain_max_vcpus", "xc_domain_pause",
            "xc_domain_resume", "xc_domain_set_memmap_limit", "xc_domain_sethandle", "xc_domain_setmaxmem",
            "xc_domain_shutdown", "xc_domain_unpause", "xc_error_code_to_desc", "xc_evtchn_alloc_unbound",
            "xc_evtchn_reset", "xc_get_cpu_featureset", "xc_get_last_error", "xc_get_max_cpus", "xc_getcpuinfo",
            "xc_interface_close", "xc_interface_open", "xc_map_foreign_range", "xc_physinfo", "xc_readconsolering",
            "xc_sched_credit_domain_get", "xc_sched_credit_domain_set", "xc_sched_id", "xc_send_debug_keys",
            "xc_shadow_control", "xc_test_assign_device", "xc_vcpu_getaffinity", "xc_vcpu_getcontext",
            "xc_vcpu_getinfo", "xc_vcpu_setaffinity", "xc_version", "xc_watchdog",
            "xenevtchn_bind_interdomain", "xenevtchn_bind_virq", "xenevtchn_close", "xenevtchn_fd", "xenevtchn_fdopen",
            "xenevtchn_notify", "xenevtchn_open", "xenevtchn_pending", "xenevtchn_unbind", "xenevtchn_unmask");

    private final Profile profile;
    private final TempRoot runDir;
    private final Path socket;
    private final ManagedProcess process;

    private RealXenstored(Profile profile, TempRoot runDir, Path socket, ManagedProcess process) {
        this.profile = profile;
        this.runDir = runDir;
        this.socket = socket;
        this.process = process;
    }

    /**
     * Starts the daemon and returns once it has answered a real request ({@code READ /tool/xenstored}).
     *
     * @throws IllegalStateException naming the Debian package when a program is missing, listing unreviewed Xen
     *         imports when the binary changed, or with the daemon's log when it did not become ready
     */
    public static RealXenstored start(Profile profile) {
        Path binary = profile.binary().require();
        checkImports(profile, binary);
        Path shim = FakeXenShim.library();
        TempRoot runDir = TempRoot.create(profile == Profile.CXENSTORED ? "xsc-" : "xso-");
        try {
            Path root = runDir.path();
            for (String dir : REMAPPED) {
                Files.createDirectories(root.resolve(dir.substring(1)));
            }
            Map<String, String> env = new HashMap<>(Map.of(
                    "LD_PRELOAD", shim.toString(),
                    "XS_FAKEXEN_ROOT", root.toString(),
                    "XS_FAKEXEN_REMAP", String.join(":", REMAPPED),
                    "XS_FAKEXEN_DOMAINS", "all"));
            List<String> argv = new ArrayList<>(List.of(binary.toString(), "--no-fork"));
            Path socket;
            if (profile == Profile.CXENSTORED) {
                socket = root.resolve("socket");
                env.put("XENSTORED_RUNDIR", root.toString());
                // The daemon honours XENSTORED_PATH too: one inherited from the test JVM must not move the socket.
                env.put("XENSTORED_PATH", socket.toString());
            } else {
                socket = root.resolve("var/run/xenstored/socket");
                Path conf = root.resolve("oxenstored.conf");
                Files.writeString(conf, oxenstoredConf(root), StandardCharsets.UTF_8);
                argv.addAll(List.of("--config-file", conf.toString()));
            }
            if (socket.toString().getBytes(StandardCharsets.UTF_8).length > SUN_PATH_MAX) {
                throw new IllegalStateException("socket path " + socket + " is longer than a UNIX socket allows: use a"
                        + " shorter TMPDIR");
            }
            ManagedProcess process = ManagedProcess.start(profile.name().toLowerCase(), argv, env,
                    root.resolve("daemon.out"));
            RealXenstored daemon = new RealXenstored(profile, runDir, socket, process);
            try {
                daemon.awaitReady();
            } catch (RuntimeException e) {
                daemon.close();
                throw e;
            }
            return daemon;
        } catch (IOException e) {
            runDir.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            runDir.close();
            throw e;
        }
    }

    /*
     * Debian's /etc/xen/oxenstored.conf (xen-utils-common 4.17) with its values spelled out, so a changed or missing
     * system file cannot change behaviour, plus the paths pointed into the run directory.
     */
    private static String oxenstoredConf(Path root) {
        return String.join("\n",
                "pid-file = " + root.resolve("xenstored.pid"),
                "test-eagain = false",
                "merge-activate = true",
                "conflict-burst-limit = 5.0",
                "conflict-max-history-seconds = 0.05",
                "conflict-rate-limit-is-aggregate = true",
                "perms-activate = true",
                "perms-watch-activate = true",
                "quota-activate = true",
                "quota-maxentity = 1000",
                "quota-maxsize = 2048",
                "quota-maxwatch = 100",
                "quota-transaction = 10",
                "quota-maxrequests = 1024",
                "quota-path-max = 1024",
                "quota-maxoutstanding = 1024",
                "quota-maxwatchevents = 1024",
                "persistent = false",
                "xenstored-log-file = " + root.resolve("oxenstored.log"),
                "access-log-file = " + root.resolve("oxenstored-access.log"),
                "xenstored-kva = /proc/xen/xsd_kva",
                "xenstored-port = /proc/xen/xsd_port",
                "");
    }

    private static void checkImports(Profile profile, Path binary) {
        Set<String> imported = xenImports(binary);
        Set<String> reviewed = reviewedImports(profile);
        Set<String> unreviewed = new TreeSet<>(imported);
        unreviewed.removeAll(reviewed);
        if (!unreviewed.isEmpty()) {
            throw new IllegalStateException(binary + " imports Xen calls the shim " + FakeXenShim.SOURCE
                    + " was not reviewed against: " + unreviewed + ". The daemon binary changed (a Debian update?);"
                    + " review the shim (docs/xen-host.md) and the lists in RealXenstored before trusting the tests.");
        }
    }

    static Set<String> reviewedImports(Profile profile) {
        return new TreeSet<>(profile == Profile.CXENSTORED ? CXENSTORED_IMPORTS : OXENSTORED_IMPORTS);
    }

    static Set<String> xenImports(Path binary) {
        Path nm = Prerequisite.NM.require();
        try {
            Process p = new ProcessBuilder(nm.toString(), "-D", "--undefined-only", binary.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("nm failed on " + binary + ":\n" + out);
            }
            Set<String> names = new TreeSet<>();
            for (String line : out.split("\n")) {
                String[] cols = line.trim().split("\\s+");
                String sym = cols[cols.length - 1];
                int at = sym.indexOf('@');
                String name = at < 0 ? sym : sym.substring(0, at);
                if (name.startsWith("xc_") || name.startsWith("xen") || name.startsWith("xs_")) {
                    names.add(name);
                }
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running nm", e);
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(profile + " exited with " + process.exitCode()
                        + " before it answered" + logs());
            }
            if (Files.exists(socket)) {
                try (XsWire wire = XsWire.connect(socket)) {
                    XsWire.Reply reply = wire.read("/tool/xenstored");
                    if (reply.type() == XsWire.READ) {
                        return;
                    }
                    last = new IllegalStateException("READ /tool/xenstored answered " + reply.text());
                } catch (IOException e) {
                    last = e;
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + profile, e);
            }
        }
        throw new IllegalStateException(profile + " did not answer READ /tool/xenstored on " + socket + " within "
                + READY_TIMEOUT + (last == null ? "" : " (last: " + last + ")") + logs());
    }

    /** @return everything the daemon logged, for failure messages */
    public String logs() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("daemon.out", "oxenstored.log")) {
            Path p = runDir.path().resolve(name);
            if (Files.exists(p)) {
                try {
                    sb.append("\n--- ").append(p).append(" ---\n").append(Files.readString(p, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    sb.append("\n--- ").append(p).append(": unreadable: ").append(e);
                }
            }
        }
        return sb.toString();
    }

    public Profile profile() {
        return profile;
    }

    /** @return the daemon's UNIX socket: give it to clients as {@code XENSTORED_PATH} */
    public Path socketPath() {
        return socket;
    }

    /** @return the private directory everything of this daemon lives in */
    public Path runDir() {
        return runDir.path();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, then SIGKILL after a grace period; waits until the process is gone. The run directory stays. */
    public void stop() {
        process.stop(Duration.ofSeconds(5));
    }

    /** SIGKILL, for fault tests: the daemon vanishes without a word to its clients. The run directory stays. */
    public void kill() {
        process.kill();
    }

    /** Stops the daemon and deletes its run directory. */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            runDir.close();
        }
    }

    @Override
    public String toString() {
        return profile + "[pid " + pid() + ", " + socket + "]";
    }
}
