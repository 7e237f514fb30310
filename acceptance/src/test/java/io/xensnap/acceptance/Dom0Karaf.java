package io.xensnap.acceptance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.xensnap.harness.XenBed;

/**
 * A stock Apache Karaf in the bed's dom0 with xensnap installed the way a manager vendor installs it: the vendor's
 * Maven repository added to pax-url, {@code etc/io.xensnap.cfg} written for the real host, then
 * {@code feature:repo-add} and {@code feature:install}. Commands go through Karaf's own local console.
 *
 * <p>Why the local console and not {@code bin/client} over ssh: under TCG a client JVM plus an ssh handshake took
 * 60–90 s per command on the busy 2-core machine. The console runs in Karaf's JVM under {@code script(1)}, which gives
 * it the terminal it expects; its input is a file on the bed's share that dom0 follows with {@code tail -f}, and its
 * output is a file on the share. Each command is framed by two {@code echo} markers, so a command's output is the text
 * between them.
 */
final class Dom0Karaf implements AutoCloseable {

    static final String HOME = "/opt/karaf";
    private static final String REPO = "/opt/xensnap/repository";
    private static final String UNIT = "xensnap-karaf";
    /** terminal control: CSI sequences, keypad mode (ESC = and ESC >), carriage returns and backspaces */
    private static final Pattern CONTROL = Pattern.compile("\u001B(\\[[0-9;?]*[ -/]*[@-~]|[=>])|[\r\b]");
    private static final String PROMPT = "karaf@root()>";

    private final XenBed bed;
    /** the console's input and output of the current start: each start has its own, so nothing is typed twice */
    private Path in;
    private Path out;
    private int starts;
    private int sequence;

    private Dom0Karaf(XenBed bed) {
        this.bed = bed;
    }

    /**
     * Unpacks {@code karafTarball} to {@link #HOME}, adds {@code repository} (a Maven repository directory) to
     * pax-url, writes {@code config} as {@code etc/io.xensnap.cfg} and starts Karaf; {@link #awaitConsoleAndInstall}
     * then waits for its console, which takes a minute or more under TCG.
     */
    static Dom0Karaf unpackAndStart(XenBed bed, Path karafTarball, Path repository, String config)
            throws IOException {
        Dom0Karaf karaf = new Dom0Karaf(bed);
        Path tar = bed.share().resolve("xensnap-repository.tar");
        Acceptance.ok(new ProcessBuilder("tar", "-C", repository.getParent().toString(), "-cf", tar.toString(),
                "--transform=s|^" + repository.getFileName() + "|repository|", repository.getFileName().toString()));
        Files.copy(karafTarball, bed.share().resolve("apache-karaf.tar.gz"));
        String share = XenBed.DOM0_SHARE;
        Acceptance.sh(bed, Duration.ofMinutes(3), String.join(" && ",
                // Java asks for the host's own name (log4j, RMI); without it in /etc/hosts each lookup waits on DNS
                "{ grep -q \"$(hostname)\" /etc/hosts || echo \"127.0.1.1 $(hostname)\" >>/etc/hosts; }",
                "mkdir -p /opt/xensnap " + HOME,
                "tar -C " + HOME + " --strip-components=1 -xzf " + share + "/apache-karaf.tar.gz",
                "tar -C /opt/xensnap -xf " + share + "/" + tar.getFileName(),
                "rm " + share + "/apache-karaf.tar.gz " + share + "/" + tar.getFileName(),
                // the vendor's repository first: dom0 has no network, so Maven Central would only cost timeouts
                "sed -i 's|^org.ops4j.pax.url.mvn.repositories=.*|org.ops4j.pax.url.mvn.repositories= file:"
                        + REPO + "@id=xensnap@snapshots, \\\\|' " + HOME + "/etc/org.ops4j.pax.url.mvn.cfg",
                "grep -q 'file:" + REPO + "' " + HOME + "/etc/org.ops4j.pax.url.mvn.cfg",
                // as docs/install.md says: no write-back into etc/, which can empty a .cfg file FileInstall reads
                "sed -i 's|^felix.fileinstall.enableConfigSave *=.*|felix.fileinstall.enableConfigSave = false|' "
                        + HOME + "/etc/config.properties",
                "grep -q '^felix.fileinstall.enableConfigSave = false' " + HOME + "/etc/config.properties"));
        bed.put(config.getBytes(StandardCharsets.UTF_8), HOME + "/etc/io.xensnap.cfg", "0644");
        karaf.start();
        return karaf;
    }

    /** Waits for the console, then adds xensnap's feature repository {@code featuresUrl} and installs xensnap. */
    void awaitConsoleAndInstall(String featuresUrl) {
        awaitConsole();
        // generous: at load 10-15 on the 2-core host a repo-add alone has taken more than 3 minutes under TCG
        String added = execute("feature:repo-add " + featuresUrl, Duration.ofMinutes(10));
        String installed = execute("feature:install xensnap", Duration.ofMinutes(10));
        awaitXensnap("feature:repo-add said: " + added + "; feature:install said: " + installed);
    }

    /**
     * Waits until xensnap's bundle is active and its commands answer. The console answers before Karaf has
     * installed its own boot features, so even bundle:list may not exist yet.
     */
    void awaitXensnap(String context) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        String bundle = "";
        String help = "";
        while (!bundle.contains("Active") || !help.contains("SYNTAX")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("xensnap did not become active (" + context + "): " + bundle + "; "
                        + help);
            }
            bundle = execute("bundle:list -s | grep xensnap", Duration.ofMinutes(1));
            help = bundle.contains("Active") ? execute("snapshot:list --help", Duration.ofMinutes(1)) : "";
        }
    }

    /**
     * Has the kernel kill Karaf's JVM (SIGKILL) the first time it opens {@code file}: strace, attached to every thread
     * of the JVM, traces only {@code openat} of that path and injects the signal there. Returns once strace is
     * attached; strace ends with the JVM.
     */
    void killWhenOpened(String file) {
        String pid = Acceptance.sh(bed, Duration.ofMinutes(1), "pgrep -f 'org[.]apache[.]karaf[.]main[.]Main'")
                .strip();
        Acceptance.sh(bed, Duration.ofMinutes(1), "systemd-run --unit=xensnap-crash strace -qq -f -p " + pid + " -P "
                + file + " -e trace=openat -e inject=openat:signal=KILL -o /dev/null"
                + " && n=0; until grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/" + pid + "/status; do"
                + " n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 0.1; done; sleep 1");
    }

    /** Waits until Karaf's unit has ended (its JVM killed), and clears what systemd remembers of it. */
    void awaitKilled(Duration timeout) {
        Acceptance.sh(bed, timeout.plusMinutes(1), "n=0; while systemctl is-active -q " + UNIT + "; do"
                + " n=$((n+1)); [ $n -lt " + timeout.toSeconds() * 2 + " ] || exit 1; sleep 0.5; done;"
                + " systemctl reset-failed " + UNIT + " xensnap-crash 2>/dev/null; true");
    }

    /**
     * Runs {@code snapshot:reconcile <domid>} until it finds the domain clean. The reconcile xensnap runs by itself at
     * start holds the domain while it waits for what it found (a merge job, say), and a request meanwhile is refused
     * with BUSY; that answer is waited out, any other is returned as it is.
     *
     * @return the last answer: {@code "<uuid> clean"}, or what reconcile reported instead
     */
    String awaitReconcileClean(int domid, String uuid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String got = execute("snapshot:reconcile " + domid, Duration.ofMinutes(3));
        while (got.contains("BUSY") && System.nanoTime() < deadline) {
            got = execute("snapshot:reconcile " + domid, Duration.ofMinutes(3));
        }
        return got;
    }

    /** Waits until xensnap's configuration holds {@code key = value}, as Karaf's configuration admin has it. */
    void awaitConfig(String key, String value) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        String got = "";
        while (!got.strip().equals(value)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("io.xensnap " + key + " is '" + got + "', not " + value);
            }
            got = execute("config:property-get -p io.xensnap " + key, Duration.ofMinutes(1));
        }
    }

    /**
     * Starts Karaf as a transient systemd unit, so it outlives the agent's request; {@link #awaitConsole} waits for
     * it. A Karaf started again keeps what it had installed (its data/ directory).
     */
    void start() {
        starts++;
        in = bed.share().resolve("karaf-console-" + starts + ".in");
        out = bed.share().resolve("karaf-console-" + starts + ".out");
        try {
            Files.write(in, new byte[0]);
            Files.write(out, new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // CPUAffinity: one vCPU of dom0 for Karaf's JVM. With its threads on both vCPUs of the TCG-emulated host the
        // JVM died of SIGSEGV in compiled code in one start of four (a fault the JVM did not expect, as when one vCPU
        // still sees a mapping another changed); pinned to one vCPU it has not recurred.
        // ---disable-inotify: tail would wait for inotify events, which 9p never sends for writes made by the host.
        // stty: a pty of 0 columns makes JLine redraw its prompt for ever.
        Acceptance.sh(bed, Duration.ofMinutes(1), "systemd-run --unit=" + UNIT + " -p CPUAffinity=1"
                + " --setenv=JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 --setenv=TERM=vt100 --setenv=LANG=C.UTF-8"
                // C1 only: under TCG the C2 compiler's threads compete with Karaf's start for the same emulated CPU
                + " --setenv=EXTRA_JAVA_OPTS=-XX:TieredStopAtLevel=1"
                + " sh -c 'tail ---disable-inotify -s 0.1 -n +1 -f " + XenBed.DOM0_SHARE + "/" + in.getFileName()
                + " | script -qfec \"stty cols 250 rows 50; exec " + HOME + "/bin/karaf\" /dev/null >>"
                + XenBed.DOM0_SHARE + "/" + out.getFileName() + " 2>&1'");
    }

    /** Waits until the console of the current start answers. */
    void awaitConsole() {
        // a loaded 2-core host (load 15) has kept Karaf's start under TCG past 8 minutes
        execute("echo started", Duration.ofMinutes(15));
    }

    /**
     * Types {@code command} without waiting for it; {@link #awaitSent} later returns its output. For a command whose
     * effects the caller wants to watch (or cut short) while it runs.
     */
    int send(String command) {
        int n = ++sequence;
        try {
            Files.writeString(in, "echo XS-BEGIN-" + n + "\n" + command + "\necho XS-END-" + n + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    /**
     * Runs one console command and returns what it printed (without the echoed input and prompts). An error of the
     * command is part of the text ("Error executing command: ..."), as an operator would see it.
     */
    String execute(String command, Duration timeout) {
        return awaitSent(send(command), command, timeout);
    }

    /** The output of the {@code n}-th command {@link #send} typed, once it has finished. */
    String awaitSent(int n, String command, Duration timeout) {
        String begin = "XS-BEGIN-" + n;
        String end = "XS-END-" + n;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> lines = lines();
            int b = lines.indexOf(begin);
            int e = lines.indexOf(end);
            if (b >= 0 && e > b) {
                List<String> body = new ArrayList<>();
                for (String l : lines.subList(b + 1, e)) {
                    if (!l.contains(PROMPT) && !l.isBlank()) {
                        body.add(l);
                    }
                }
                return String.join("\n", body);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Karaf's console did not finish '" + command + "' within "
                        + timeout + "; its last output:\n" + tail(40));
            }
            Acceptance.sleep(100);
        }
    }

    /** Kills Karaf's JVM at once (SIGKILL), as a crash would, and waits until the unit is gone. */
    void kill() {
        Acceptance.sh(bed, Duration.ofMinutes(1), "systemctl kill -s KILL " + UNIT
                + "; while systemctl is-active -q " + UNIT + "; do sleep 0.2; done; systemctl reset-failed " + UNIT
                + " 2>/dev/null; true");
    }

    /** The console's last lines, for a failure's report. */
    String tail(int count) {
        List<String> lines = lines();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    private List<String> lines() {
        try {
            String text = CONTROL.matcher(Files.readString(out, StandardCharsets.UTF_8)).replaceAll("");
            List<String> lines = new ArrayList<>();
            for (String l : text.split("\n", -1)) {
                // JLine draws a "~" filler line before each prompt
                lines.add(l.strip().replaceFirst("^~\\s*", ""));
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (bed.isAlive()) {
            bed.run(Duration.ofMinutes(1), "systemctl", "stop", UNIT);
        }
    }
}
