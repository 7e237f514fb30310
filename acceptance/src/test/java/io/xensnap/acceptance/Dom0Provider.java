package io.xensnap.acceptance;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.xensnap.harness.XenBed;

/**
 * xensnap in the bed's dom0 without Karaf: the bundle's jar and what it needs at run time (Jackson, JNA, SLF4J) on a
 * plain class path, and {@link ProviderMain} run with {@code java -cp} once per operation. Everything comes from this
 * test's own class path, so the jar is the one the build just made.
 */
final class Dom0Provider {

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
    private final String classPath;

    private Dom0Provider(XenBed bed, String classPath) {
        this.bed = bed;
        this.classPath = classPath;
    }

    /** Puts the class path into dom0. */
    static Dom0Provider install(XenBed bed) {
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
        return new Dom0Provider(bed, String.join(":", entries));
    }

    /**
     * Runs one operation of {@link ProviderMain} in dom0, e.g. {@code create 3 s1 xvda:internal}: pinned to one vCPU
     * and with C1 only, as Karaf runs in the acceptance suite (docs/acceptance.md).
     */
    XenBed.Result run(Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(List.of("taskset", "-c", "1", "java", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", classPath, ProviderMain.class.getName()));
        argv.addAll(List.of(args));
        return bed.run(timeout, argv, null);
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
