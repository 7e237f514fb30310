package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The project's LD_PRELOAD shim ({@code xs-fakexen.c}, see docs/xen-host.md#xenstored-without-a-hypervisor), compiled
 * with gcc once per JVM into a private temp directory that is deleted when the JVM exits. Every daemon of the run
 * shares the one library: compiling takes about half a second, and tests start many daemons.
 */
final class FakeXenShim {

    static final String SOURCE = "xs-fakexen.c";

    private static Path library;

    private FakeXenShim() {
    }

    /** @return the compiled shared object, named after the hash of its source */
    static synchronized Path library() {
        if (library == null || !Files.isRegularFile(library)) {
            library = compile();
        }
        return library;
    }

    /** @return the C source as shipped in the harness jar */
    static byte[] source() {
        try (InputStream in = FakeXenShim.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SOURCE + " is missing from the harness classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path compile() {
        Path gcc = Prerequisite.GCC.require();
        byte[] source = source();
        TempRoot dir = TempRoot.create("xs-shim-");
        Runtime.getRuntime().addShutdownHook(new Thread(dir::close, "xs-shim-cleanup"));
        Path c = dir.resolve(SOURCE);
        Path so = dir.resolve("xs-fakexen-" + sha256(source).substring(0, 16) + ".so");
        Path log = dir.resolve("gcc.log");
        try {
            Files.write(c, source);
            Process gccRun = new ProcessBuilder(List.of(gcc.toString(), "-O2", "-shared", "-fPIC", "-o", so.toString(),
                    c.toString(), "-ldl"))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!gccRun.waitFor(60, TimeUnit.SECONDS)) {
                gccRun.destroyForcibly();
                throw new IllegalStateException("gcc did not finish compiling " + SOURCE + " within 60 s");
            }
            if (gccRun.exitValue() != 0) {
                throw new IllegalStateException("gcc failed (exit " + gccRun.exitValue() + ") compiling " + SOURCE
                        + " (the Debian package libc6-dev provides the headers):\n" + Files.readString(log));
            }
            return so;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling " + SOURCE, e);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
