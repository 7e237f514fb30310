package io.xensnap.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for xl that uses one domain's QEMU and stored config as libxl does, every {@code interval}: libxl's
 * qmp-socket-lock, a QMP session with {@code query-status}, unlock; then the domain-userdata lock, read the config,
 * unlock. It is the small C program {@code libxl-like-client.c} (flock(2) and the socket calls libxl makes, timed with
 * the monotonic clock), compiled with gcc once per JVM, so that the measurement does not share the JVM or the code of
 * the product it watches.
 */
public final class LibxlLikeClient implements AutoCloseable {

    /** One round as the client measured it. */
    public record Round(int n, boolean ok, double qmpMillis, double configMillis, double totalMillis, String detail) {
    }

    private static final String SOURCE = "libxl-like-client.c";
    private static Path program;

    private final ManagedProcess process;
    private final Path stop;

    private LibxlLikeClient(ManagedProcess process, Path stop) {
        this.process = process;
        this.stop = stop;
    }

    /**
     * Starts the rounds against domain {@code domid} of {@code host}; the first one at once.
     *
     * @param work where the client's log and stop file go
     */
    public static LibxlLikeClient start(XenHost host, int domid, Duration interval, Path work) {
        Path stop = work.resolve("libxl-like-client-" + domid + ".stop");
        Path log = work.resolve("libxl-like-client-" + domid + ".log");
        try {
            // a client started here before left both: its stop file would end this one at once
            Files.deleteIfExists(stop);
            Files.deleteIfExists(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ManagedProcess p = ManagedProcess.start("libxl-like-client", List.of(program().toString(),
                host.libxlLockPath(domid, "qmp-socket-lock").toString(), host.qmpSocketPath(domid).toString(),
                host.userdataLockPath(domid).toString(), host.userdataPath(domid).toString(),
                String.valueOf(interval.toMillis()), stop.toString()), Map.of(), log);
        return new LibxlLikeClient(p, stop);
    }

    /** @return the rounds so far (a round still running is not among them) */
    public List<Round> rounds() {
        List<Round> out = new ArrayList<>();
        for (String line : process.logText().split("\n")) {
            String[] f = line.strip().split(" ");
            if (f.length >= 5 && f[0].equals("round") && f[2].equals("ok")) {
                out.add(new Round(Integer.parseInt(f[1]), true, Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                        Double.parseDouble(f[5]), f.length > 6 ? f[6] : ""));
            } else if (f.length >= 4 && f[0].equals("round") && f[2].equals("error")) {
                out.add(new Round(Integer.parseInt(f[1]), false, 0, 0, Double.parseDouble(f[3]),
                        String.join(" ", List.of(f).subList(4, f.length))));
            }
        }
        return out;
    }

    /**
     * Lets the round under way finish and stops the client.
     *
     * @return every round it made
     */
    public List<Round> stop(Duration roundTimeout) {
        try {
            Files.writeString(stop, "stop\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!process.waitFor(roundTimeout)) {
            process.kill();
        }
        List<Round> all = rounds();
        process.stop(Duration.ZERO);
        return all;
    }

    @Override
    public void close() {
        process.stop(Duration.ZERO);
    }

    private static synchronized Path program() {
        if (program == null || !Files.isExecutable(program)) {
            program = compile();
        }
        return program;
    }

    private static Path compile() {
        Path gcc = Prerequisite.GCC.require();
        TempRoot dir = TempRoot.create("libxl-like-client-bin-");
        Runtime.getRuntime().addShutdownHook(new Thread(dir::close, "libxl-like-client-cleanup"));
        Path c = dir.resolve(SOURCE);
        Path binary = dir.resolve("libxl-like-client");
        try (InputStream in = LibxlLikeClient.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SOURCE + " is missing from the harness classpath");
            }
            Files.write(c, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ShortCommand.Result result = ShortCommand.run(Duration.ofSeconds(60), List.of(gcc.toString(), "-O2", "-Wall",
                "-Werror", "-o", binary.toString(), c.toString()));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("gcc failed (exit " + result.exitCode() + ") compiling " + SOURCE + ":\n"
                    + result.output());
        }
        return binary;
    }
}
