package io.xensnap.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.InstanceNotFoundException;
import javax.management.MBeanException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import io.xensnap.harness.ManagedProcess;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.TempRoot;

/**
 * The project's Karaf distribution, run by the bench as a user runs it, pointed at the bench's dom0 the way
 * {@code scripts/demo} points it at the demo's: a copy of {@code distribution/target/assembly} in a temp dir (the
 * checkout's target/ is never written), {@code etc/io.xensnap.cfg} naming the bench's xenstored, run dir, libxl dir
 * and overlay root, a state dir of its own, and free ports for JMX and ssh (a second Karaf on the default ports would
 * let the clients silently reach the first one: docs/karaf-build.md#ports).
 *
 * <p>{@code bin/karaf daemon} {@code exec}s the JVM, so the Karaf JVM is the {@link ManagedProcess} itself: it dies
 * with the bench (pdeathsig), is stopped by its shutdown hook, and runs in the bench's session, where
 * {@code scripts/bench} looks for leftovers.
 */
final class KarafHost implements AutoCloseable {

    static final String USER = "karaf";
    static final String PASSWORD = "karaf";
    static final ObjectName SNAPSHOTS = name("io.xensnap:type=snapshots");

    private final TempRoot root;
    private final Path home;
    private final Path state;
    private final int sshPort;
    private final JMXServiceURL url;
    private ManagedProcess karaf;
    private Stats launchToReady;

    private KarafHost(TempRoot root, Path home, Path state, int sshPort, JMXServiceURL url) {
        this.root = root;
        this.home = home;
        this.state = state;
        this.sshPort = sshPort;
        this.url = url;
    }

    /**
     * Copies and configures the distribution in {@code assembly} for {@code host}; nothing is started yet.
     *
     * @throws IllegalStateException when the assembly is not built (scripts/bench builds it)
     */
    static KarafHost prepare(Path assembly, BenchHost host) throws IOException {
        if (!Files.isExecutable(assembly.resolve("bin/karaf"))) {
            throw new IllegalStateException("no Karaf distribution at " + assembly + " (scripts/bench builds it with"
                    + " `mvn package -pl bench,distribution -am`)");
        }
        TempRoot root = TempRoot.create("xsb-karaf-");
        try {
            Path home = root.path().resolve("karaf");
            ShortCommand.ok("cp", "-a", assembly.toString(), home.toString());
            Path state = Files.createDirectories(root.path().resolve("state"));
            int rmiRegistry = freePort();
            int rmiServer = freePort();
            int ssh = freePort();
            setKey(home.resolve("etc/org.apache.karaf.management.cfg"), "rmiRegistryPort", Integer.toString(rmiRegistry));
            setKey(home.resolve("etc/org.apache.karaf.management.cfg"), "rmiServerPort", Integer.toString(rmiServer));
            setKey(home.resolve("etc/org.apache.karaf.shell.cfg"), "sshPort", Integer.toString(ssh));
            // the same settings the bench's own provider gets (BenchHost.engine), so the surfaces run the same engine
            boolean rootOwned = "root".equals(Files.getOwner(host.xenstoredSocket()).getName());
            String cfg = String.join("\n",
                    "xen.run.dir = " + host.qmpSocket(0).getParent(),
                    "xen.lib.dir = " + host.libxlDir(),
                    "xenstored.socket = " + host.xenstoredSocket(),
                    "qemu.img = " + Prerequisite.QEMU_IMG.require(),
                    "state.dir = " + state,
                    "overlay.roots = " + host.images(),
                    "parallelism = 2",
                    // as root (the bench's normal case) the owner guard runs as on a dom0
                    "sockets.any.owner = " + !rootOwned, "");
            Files.writeString(home.resolve("etc/io.xensnap.cfg"), cfg, StandardCharsets.UTF_8);
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + rmiRegistry
                    + "/karaf-root");
            return new KarafHost(root, home, state, ssh, url);
        } catch (IOException | RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** Karaf's state dir for xensnap (the catalog). */
    Path state() {
        return state;
    }

    Path home() {
        return home;
    }

    /**
     * Starts Karaf and waits until xensnap answers: the JMX connector accepts, the snapshots MBean is registered and
     * {@code listSnapshots(probeDomain)} returns.
     */
    void start(String probeDomain) throws Exception {
        Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"));
        long t0 = System.nanoTime();
        karaf = ManagedProcess.start("karaf", List.of(home.resolve("bin/karaf").toString(), "daemon"), env,
                root.path().resolve("karaf.out"));
        long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
        JMXConnector c = null;
        while (c == null) {
            if (!karaf.isAlive()) {
                throw new IllegalStateException("Karaf exited with " + karaf.exitCode() + ": " + karaf.logText()
                        + "\n" + tail(home.resolve("data/log/karaf.log")));
            }
            try {
                c = connect();
            } catch (IOException | SecurityException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Karaf's JMX connector did not come up within 120 s: " + e
                            + "\n" + tail(home.resolve("data/log/karaf.log")));
                }
                Thread.sleep(50);
            }
        }
        try (JMXConnector open = c) {
            awaitReady(open.getMBeanServerConnection(), probeDomain, deadline);
        }
        launchToReady = Stats.ofNanos(List.of(System.nanoTime() - t0));
        // the console comes up with the ssh feature, maybe a moment after JMX: wait for it untimed
        for (int i = 0; ; i++) {
            ClientRun r = client(List.of("bundle:list -s io.xensnap"), "", Duration.ofSeconds(60));
            if (r.exitCode() == 0 && r.output().contains("io.xensnap")) {
                break;
            }
            if (i == 30) {
                throw new IllegalStateException("bin/client does not answer: " + r.output());
            }
            Thread.sleep(500);
        }
    }

    /** Launch of the Karaf JVM until xensnap answered, once. */
    Stats launchToReady() {
        return launchToReady;
    }

    JMXConnector connect() throws IOException {
        return JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS, new String[] {USER, PASSWORD}));
    }

    String url() {
        return url.toString();
    }

    /**
     * Polls until the snapshots MBean is registered and {@code listSnapshots(domain)} answers (an
     * {@code [NO_SUCH_DOMAIN]} error is an answer too: the engine gave it).
     *
     * @return nanoTime when the MBean was first seen registered
     */
    static long awaitReady(MBeanServerConnection mbs, String domain, long deadlineNanos) throws Exception {
        while (!mbs.isRegistered(SNAPSHOTS)) {
            if (System.nanoTime() > deadlineNanos) {
                throw new IllegalStateException(SNAPSHOTS + " was not registered in time");
            }
            Thread.sleep(1);
        }
        long registered = System.nanoTime();
        while (true) {
            try {
                list(mbs, domain);
                return registered;
            } catch (InstanceNotFoundException e) {
                // registered and gone again: a configuration change re-creates the components; keep polling
            } catch (MBeanException e) {
                String m = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
                if (m.startsWith("[NO_SUCH_DOMAIN]")) {
                    return registered;
                }
                throw e;
            }
            if (System.nanoTime() > deadlineNanos) {
                throw new IllegalStateException("listSnapshots(" + domain + ") did not answer in time");
            }
            Thread.sleep(1);
        }
    }

    static Object list(MBeanServerConnection mbs, String domain) throws Exception {
        return mbs.invoke(SNAPSHOTS, "listSnapshots", new Object[] {domain}, new String[] {String.class.getName()});
    }

    /**
     * What one {@code bin/client} run printed, how long the process took from spawn to exit, and when (nanos after
     * the spawn) each line that starts with the caller's marker arrived.
     */
    record ClientRun(int exitCode, String output, long nanos, List<Long> marks) {
    }

    /**
     * Runs {@code bin/client -b} with {@code commands} on its standard input, one per line, as a script or a user at a
     * shell prompt runs it (a command argument with stdin at EOF prints only "Closed": docs/karaf-build.md#bin-client).
     * The client streams each command's output as the command ends, so the arrival of its lines times the commands.
     *
     * @param marker lines starting with it (after leading blanks) are timed; may be empty for none
     */
    ClientRun client(List<String> commands, String marker, Duration timeout) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(home.resolve("bin/client").toString(), "-u", USER, "-p", PASSWORD,
                "-h", "127.0.0.1", "-a", Integer.toString(sshPort), "-b"));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        byte[] in = (String.join("\n", commands) + "\n").getBytes(StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        Process p = pb.start();
        // the output is read to its end below; a hung client must still end, so a watchdog enforces the timeout
        Thread watchdog = new Thread(() -> {
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bin-client-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            try (OutputStream os = p.getOutputStream()) {
                os.write(in);
            }
            StringBuilder out = new StringBuilder();
            List<Long> marks = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!marker.isEmpty() && line.strip().startsWith(marker)) {
                        marks.add(System.nanoTime() - t0);
                    }
                    out.append(line).append('\n');
                }
            }
            p.waitFor();
            long t1 = System.nanoTime();
            if (t1 - t0 >= timeout.toNanos()) {
                throw new IllegalStateException("bin/client did not finish within " + timeout + ": " + out);
            }
            return new ClientRun(p.exitValue(), out.toString(), t1 - t0, marks);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            watchdog.interrupt();
        }
    }

    @Override
    public void close() {
        try {
            if (karaf != null) {
                karaf.stop(Duration.ofSeconds(10));
            }
        } finally {
            root.close();
        }
    }

    private static void setKey(Path cfg, String key, String value) throws IOException {
        String text = Files.readString(cfg, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + "\\s*=.*$").matcher(text);
        if (!m.find()) {
            throw new IllegalStateException(cfg + " has no line " + key + " = …");
        }
        Files.writeString(cfg, m.replaceFirst(Matcher.quoteReplacement(key + " = " + value)), StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no " + log + ": " + e.getMessage() + ")";
        }
    }

    private static ObjectName name(String n) {
        try {
            return new ObjectName(n);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(n, e);
        }
    }
}
