package io.xensnap.acceptance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.xensnap.harness.XenBed;

/**
 * xensnap in the bed's dom0 without Karaf: the bundle's jar and what it needs at run time (Jackson, JNA, SLF4J) on a
 * plain class path, and one {@link ProviderMain} JVM that serves every operation through a directory on the bed's
 * share. Everything comes from this test's own class path, so the jar is the one the build just made.
 */
final class Dom0Provider implements AutoCloseable {

    private static final String DIR = "/opt/xensnap-cp";
    /** one class of each part the service needs at run time; its jar (or classes directory) goes to dom0 */
    private static final List<String> PARTS = List.of(
            "io.xensnap.internal.service.SnapshotService",
            "com.fasterxml.jackson.databind.ObjectMapper",
            "com.fasterxml.jackson.core.JsonFactory",
            "com.fasterxml.jackson.annotation.JsonProperty",
            "com.sun.jna.Native",
            "org.slf4j.LoggerFactory",
            "org.slf4j.impl.SimpleLogger",
            ProviderMain.class.getName());

    private final XenBed bed;
    /** the JVM's directory on the host's side of the share */
    private final Path dir;
    private final List<String> classPath;
    /** what follows {@code serve DIR}: empty, or the state directory and the guest's control channel */
    private final List<String> serveArgs;
    private int sequence;

    private Dom0Provider(XenBed bed, String name, List<String> classPath, List<String> serveArgs) {
        this.bed = bed;
        this.dir = bed.share().resolve(name);
        this.classPath = classPath;
        this.serveArgs = serveArgs;
    }

    /**
     * Puts the class path into dom0 and starts the JVM in the background, pinned to one vCPU and with C1 only, as
     * Karaf runs in the acceptance suite (docs/acceptance.md), and niced, so that {@code xl create} and the device
     * models it starts meanwhile come first; {@link #awaitReady} waits for it.
     *
     * @param name      its directory on the share
     * @param serveArgs empty, or a state directory of its own and the guest's control channel ({@link ProviderMain})
     */
    static Dom0Provider start(XenBed bed, String name, List<String> serveArgs) {
        Set<Path> sources = new LinkedHashSet<>();
        for (String part : PARTS) {
            sources.add(location(part));
        }
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (Path source : sources) {
            n++;
            if (Files.isDirectory(source)) {
                // a classes directory (the reactor's test classes): through the share as one tar
                Path tar = bed.share().resolve("cp-" + n + ".tar");
                Acceptance.ok(new ProcessBuilder("tar", "-C", source.toString(), "-cf", tar.toString(), "."));
                Acceptance.sh(bed, Duration.ofMinutes(2), "mkdir -p " + DIR + "/" + n + " && tar -C " + DIR + "/" + n
                        + " -xf " + XenBed.DOM0_SHARE + "/" + tar.getFileName() + " && rm " + XenBed.DOM0_SHARE + "/"
                        + tar.getFileName());
                entries.add(DIR + "/" + n);
            } else {
                String target = DIR + "/" + n + "-" + source.getFileName();
                bed.put(source, target, "0644");
                entries.add(target);
            }
        }
        Dom0Provider provider = new Dom0Provider(bed, name, entries, serveArgs);
        provider.launch();
        return provider;
    }

    /** The service as {@code etc/io.xensnap.cfg} of the Karaf suite configures it, its state where Karaf keeps it. */
    static Dom0Provider start(XenBed bed) {
        return start(bed, "xensnap", List.of());
    }

    /**
     * Starts the JVM again after it died (a crash the test caused); like a Karaf start, it reconciles every domain
     * with a catalog before {@link #awaitReady} returns.
     */
    void restart() {
        try {
            Files.deleteIfExists(dir.resolve("ready"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        launch();
    }

    private void launch() {
        String share = XenBed.DOM0_SHARE + "/" + dir.getFileName();
        // setsid and every stream redirected: the agent's command returns at once and nothing waits on the JVM
        Acceptance.sh(bed, Duration.ofMinutes(1), "mkdir -p " + share + " && setsid nice -n 10 taskset -c 1 java"
                + " -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.showDateTime=true"
                + " -cp " + String.join(":", classPath) + " " + ProviderMain.class.getName() + " serve " + share + " " + String.join(" ", serveArgs)
                + " </dev/null >>" + share + "/jvm.log 2>&1 &");
    }

    /** Waits until the service is up and its reconcile at start has ended. */
    void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(dir.resolve("ready"))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("xensnap's JVM in dom0 not ready within " + timeout + "; its log:\n"
                        + log());
            }
            Acceptance.sleep(200);
        }
    }

    /**
     * Runs one operation, e.g. {@code create 3 s1 xvda:internal}.
     *
     * @return its exit code (0, 3 for a SnapshotException, 1 for anything else) and what it printed; the JVM's log
     *         as stderr
     */
    XenBed.Result run(Duration timeout, String... words) {
        Path out = submit(words);
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!Files.exists(out)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("xensnap in dom0 did not answer " + List.of(words) + " within "
                            + timeout + "; its log:\n" + log());
                }
                Acceptance.sleep(100);
            }
            String[] reply = Files.readString(out).split("\n", 2);
            return new XenBed.Result(List.of(words), Integer.parseInt(reply[0].strip()),
                    reply.length > 1 ? reply[1] : "", log());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hands one operation to the JVM without waiting for it; @return where its answer will be written */
    Path submit(String... words) {
        String id = String.format("%04d", ++sequence);
        try {
            Path staged = dir.resolve("req/." + id);
            Files.writeString(staged, String.join("\n", words) + "\n");
            Files.move(staged, dir.resolve("req/" + id), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve("out/" + id);
    }

    /** Waits until the JVM has printed {@code line} and then is gone from dom0's process list. */
    void awaitDeath(String line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!log().contains(line)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("xensnap's JVM in dom0 did not print '" + line + "' within " + timeout
                        + "; its log:\n" + log());
            }
            Acceptance.sleep(200);
        }
        Acceptance.sh(bed, timeout, "n=0; while pgrep -f '" + ProviderMain.class.getName() + " serve "
                + XenBed.DOM0_SHARE + "/" + dir.getFileName() + "( |$)' >/dev/null; do n=$((n+1));"
                + " [ $n -lt 600 ] || exit 1; sleep 0.1; done");
    }

    /** The JVM's log (SLF4J's lines and anything it printed), as far as it goes now. */
    String log() {
        try {
            Path log = dir.resolve("jvm.log");
            return Files.exists(log) ? Files.readString(log) : "(no log yet)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Tells the JVM to exit (the bed's end would kill it anyway). */
    @Override
    public void close() {
        try {
            Files.writeString(dir.resolve("stop"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }


    private static Path location(String className) {
        try {
            Class<?> c = Class.forName(className, false, Dom0Provider.class.getClassLoader());
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (ClassNotFoundException | URISyntaxException e) {
            throw new IllegalStateException("not on the test's class path: " + className, e);
        }
    }
}
