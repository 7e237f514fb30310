package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * Xen 4.17's real {@code xl}, able to parse an xl.cfg on a machine without a hypervisor: its dry run
 * ({@code xl -N create CFG}) prints libxl's JSON for the config and starts nothing. A small library preloaded into xl
 * ({@code xl-dry-run-shim.c}) answers the few questions xl asks the hypervisor before and while it parses. Compiled
 * with gcc once per JVM into a private temp directory deleted when the JVM exits.
 */
public final class XlDryRun {

    static final String SOURCE = "xl-dry-run-shim.c";

    private static Path program;

    private XlDryRun() {
    }

    /**
     * @return an executable that runs the real xl with the shim: {@code -N create CFG} works, any command that needs
     *         the hypervisor fails
     */
    public static synchronized Path xl() {
        if (program == null || !Files.isExecutable(program)) {
            program = build();
        }
        return program;
    }

    private static Path build() {
        Path gcc = Prerequisite.GCC.require();
        Prerequisite.LIBXL_DEV.require();
        Path realXl = Prerequisite.XL.require();
        TempRoot dir = TempRoot.create("xl-dry-run-");
        Runtime.getRuntime().addShutdownHook(new Thread(dir::close, "xl-dry-run-cleanup"));
        Path c = dir.resolve(SOURCE);
        Path shim = dir.resolve("xl-dry-run-shim.so");
        try (InputStream in = XlDryRun.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SOURCE + " is missing from the harness classpath");
            }
            Files.write(c, in.readAllBytes());
            ShortCommand.Result result = ShortCommand.run(Duration.ofSeconds(60), List.of(gcc.toString(), "-O2",
                    "-Wall", "-Werror", "-shared", "-fPIC", "-o", shim.toString(), c.toString()));
            if (result.exitCode() != 0) {
                throw new IllegalStateException("gcc failed (exit " + result.exitCode() + ") compiling " + SOURCE
                        + " (the Debian package " + Prerequisite.LIBXL_DEV.debianPackage() + " provides libxl.h):\n"
                        + result.output());
            }
            Path wrapper = dir.resolve("xl");
            // xl's own wrapper in /usr/sbin refuses to run without /sys/hypervisor: the versioned binary is run
            Files.writeString(wrapper, "#!/bin/sh\nLD_PRELOAD='" + shim + "' exec '" + realXl + "' \"$@\"\n",
                    StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
            return wrapper;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
