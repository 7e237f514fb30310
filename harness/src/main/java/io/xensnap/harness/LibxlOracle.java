package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * libxenlight 4.17 as the reference for libxl's userdata JSON (docs/xen-host.md#libxl-as-the-oracle): its own parser
 * ({@code libxl_domain_config_from_json}) and generator ({@code libxl_domain_config_to_json}), run by the small program
 * {@code libxl-oracle.c}. That program is compiled with gcc once per JVM into a private temp directory deleted when
 * the JVM exits; it needs no hypervisor and no xenstored.
 */
public final class LibxlOracle {

    static final String SOURCE = "libxl-oracle.c";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static Path program;

    private LibxlOracle() {
    }

    /**
     * @return the bytes libxl writes for the domain config in {@code file} after reading it, trailing NUL included
     * @throws IllegalStateException with libxl's own log when libxl refuses the file
     */
    public static byte[] roundTrip(Path file) {
        return run(List.of("round-trip", file.toString()));
    }

    /**
     * libxl's own disk change: reads {@code file}, sets the disk {@code vdev}'s {@code pdev_path} and {@code format},
     * and returns what libxl writes for it.
     *
     * @param path   the new image path, or {@code null} for none
     * @param format libxl's name of the format: {@code raw}, {@code qcow2}, {@code empty} ...
     */
    public static byte[] setDisk(Path file, String vdev, String path, String format) {
        return run(List.of("set-disk", file.toString(), vdev, path == null ? "" : path, format));
    }

    /**
     * As {@link #setDisk(Path, String, String, String)}, and the disk's backend becomes {@code backend} (libxl's name:
     * {@code phy}, {@code qdisk} ...); a qdisk loses its hotplug script, which libxl refuses with that backend.
     */
    public static byte[] setDisk(Path file, String vdev, String path, String format, String backend) {
        return run(List.of("set-disk", file.toString(), vdev, path == null ? "" : path, format, backend));
    }

    private static byte[] run(List<String> args) {
        try (TempRoot dir = TempRoot.create("libxl-oracle-")) {
            Path out = dir.resolve("out.libxl-json");
            List<String> argv = new ArrayList<>();
            argv.add(program().toString());
            argv.add(args.get(0));
            argv.add(args.get(1));
            argv.add(out.toString());
            argv.addAll(args.subList(2, args.size()));
            ShortCommand.run(TIMEOUT, argv).orThrow();
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized Path program() {
        if (program == null || !Files.isExecutable(program)) {
            program = compile();
        }
        return program;
    }

    private static Path compile() {
        Path gcc = Prerequisite.GCC.require();
        Prerequisite.LIBXL_DEV.require();
        TempRoot dir = TempRoot.create("libxl-oracle-bin-");
        Runtime.getRuntime().addShutdownHook(new Thread(dir::close, "libxl-oracle-cleanup"));
        Path c = dir.resolve(SOURCE);
        Path binary = dir.resolve("libxl-oracle");
        try (InputStream in = LibxlOracle.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SOURCE + " is missing from the harness classpath");
            }
            Files.write(c, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ShortCommand.Result result = ShortCommand.run(Duration.ofSeconds(60), List.of(gcc.toString(), "-O2", "-Wall",
                "-Werror", "-o", binary.toString(), c.toString(), "-lxenlight", "-lxentoollog"));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("gcc failed (exit " + result.exitCode() + ") compiling " + SOURCE
                    + " (the Debian package " + Prerequisite.LIBXL_DEV.debianPackage()
                    + " provides libxl.h and libxenlight.so):\n" + result.output());
        }
        return binary;
    }
}
