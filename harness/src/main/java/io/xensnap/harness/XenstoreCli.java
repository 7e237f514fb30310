package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The xenstore-utils command-line tools ({@code xenstore-read}, {@code -write}, {@code -chmod}, {@code -ls}, ...)
 * pointed at one daemon through {@code XENSTORED_PATH}. Tests set up and check xenstore with them, never with the
 * product's own client: an independent, real implementation of the protocol.
 */
public final class XenstoreCli {

    private static final long TIMEOUT_SECONDS = 10;

    private final Path socket;
    private final Path binDir;

    public XenstoreCli(Path socket) {
        this.socket = socket;
        this.binDir = Prerequisite.XENSTORE_CLI.require().getParent();
    }

    /** @return the value, as {@code xenstore-read} prints it (without its newline) */
    public String read(String path) {
        String out = run("xenstore-read", path);
        return out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
    }

    /** Writes path/value pairs; xenstore-write does all pairs of one call in one transaction. */
    public void write(String... pathValuePairs) {
        if (pathValuePairs.length == 0 || pathValuePairs.length % 2 != 0) {
            throw new IllegalArgumentException("path/value pairs expected: " + Arrays.toString(pathValuePairs));
        }
        run("xenstore-write", pathValuePairs);
    }

    /** Sets the permissions of one node, e.g. {@code chmod("/a", "n5", "r0")}: owner first. */
    public void chmod(String path, String... perms) {
        List<String> args = new ArrayList<>();
        args.add(path);
        args.addAll(List.of(perms));
        run("xenstore-chmod", args.toArray(String[]::new));
    }

    /** @return {@code xenstore-ls -f -p path}: one line per node, full path, value and permissions */
    public String lsFullWithPerms(String path) {
        return run("xenstore-ls", "-f", "-p", path);
    }

    /** @return the children, as {@code xenstore-list} prints them */
    public List<String> list(String path) {
        String out = run("xenstore-list", path);
        return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }

    public boolean exists(String path) {
        return runForExit("xenstore-exists", path) == 0;
    }

    public void rm(String path) {
        run("xenstore-rm", path);
    }

    /**
     * Runs one of the tools.
     *
     * @return its standard output
     * @throws IllegalStateException with its output when it fails
     */
    public String run(String program, String... args) {
        Result r = exec(program, args);
        if (r.exit != 0) {
            throw new IllegalStateException(program + " " + String.join(" ", args) + " failed with exit " + r.exit
                    + " against " + socket + ": " + r.out + r.err);
        }
        return r.out;
    }

    private int runForExit(String program, String... args) {
        return exec(program, args).exit;
    }

    private record Result(int exit, String out, String err) {
    }

    private Result exec(String program, String... args) {
        Path exe = binDir.resolve(program);
        if (!Files.isExecutable(exe)) {
            throw new IllegalStateException(exe + " is missing: install the Debian package "
                    + Prerequisite.XENSTORE_CLI.debianPackage());
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("XENSTORED_PATH", socket.toString());
        try {
            // Output goes to files, not pipes: waiting on a pipe would have no timeout if the tool hung.
            Path outFile = Files.createTempFile("xscli-", ".out");
            Path errFile = Files.createTempFile("xscli-", ".err");
            try {
                Process p = pb.redirectOutput(outFile.toFile()).redirectError(errFile.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(program + " " + String.join(" ", args) + " did not finish within "
                            + TIMEOUT_SECONDS + " s against " + socket);
                }
                return new Result(p.exitValue(), Files.readString(outFile, StandardCharsets.UTF_8),
                        Files.readString(errFile, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(outFile);
                Files.deleteIfExists(errFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + program, e);
        }
    }
}
