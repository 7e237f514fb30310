package io.xensnap.internal.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import io.xensnap.internal.config.InvalidConfigurationException.Problem;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.XenstoreSocketPath;

/**
 * Checks the configuration {@code io.xensnap} and turns it into {@link Settings}. It reads the environment only through
 * the function it is given, and the file system only for the programs xensnap runs as root ({@link ProgramPathCheck}):
 * whoever may change the configuration must not be able to make root run a file of their own. Every bad key is
 * reported, not only the first.
 */
final class ConfigurationValidator {

    /** Beyond a week a timeout is a typo, and {@code Duration.toNanos()} of huge values overflows. */
    static final long MAX_TIMEOUT_MS = Duration.ofDays(7).toMillis();
    static final int MAX_PARALLELISM = 64;
    /** {@code sun_path} holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;
    /** The longest QMP socket name libxl makes: the highest guest domid. */
    private static final String LONGEST_QMP_SOCKET = "qmp-libxl-32751";

    private final Function<String, String> env;
    private final ProgramPathCheck programs = new ProgramPathCheck();

    /** @param env the environment lookup, {@code System::getenv} in production; {@code null} for unset */
    ConfigurationValidator(Function<String, String> env) {
        this.env = env;
    }

    Settings validate(XensnapConfiguration c) throws InvalidConfigurationException {
        List<Problem> problems = new ArrayList<>();
        Path runDir = path(problems, "xen.run.dir", c::xen_run_dir);
        if (runDir != null) {
            socketLength(problems, "xen.run.dir", runDir.resolve(LONGEST_QMP_SOCKET));
        }
        Path libDir = path(problems, "xen.lib.dir", c::xen_lib_dir);
        Path xenstored = xenstoredSocket(problems, c);
        Path qemuImg = program(problems, "qemu.img", c::qemu_img);
        Optional<Path> xl = optionalProgram(problems, "xl.path", c::xl_path);
        Duration xlTimeout = timeout(problems, "xl.timeout.ms", c::xl_timeout_ms);
        Path stateDir = path(problems, "state.dir", c::state_dir);
        List<Path> roots = overlayRoots(problems, c);
        Duration connect = timeout(problems, "qmp.connect.timeout.ms", c::qmp_connect_timeout_ms);
        Duration greeting = timeout(problems, "qmp.greeting.timeout.ms", c::qmp_greeting_timeout_ms);
        Duration reply = timeout(problems, "qmp.reply.timeout.ms", c::qmp_reply_timeout_ms);
        Duration job = timeout(problems, "job.timeout.ms", c::job_timeout_ms);
        long mergeSpeed = speed(problems, "merge.speed", c::merge_speed);
        Duration qemuImgTimeout = timeout(problems, "qemu.img.timeout.ms", c::qemu_img_timeout_ms);
        Duration xenstore = timeout(problems, "xenstore.timeout.ms", c::xenstore_timeout_ms);
        Duration lock = timeout(problems, "libxl.lock.timeout.ms", c::libxl_lock_timeout_ms);
        Duration busy = timeout(problems, "domain.busy.wait.ms", c::domain_busy_wait_ms);
        int parallelism = parallelism(problems, c::parallelism);
        boolean anyOwner = flag(problems, "sockets.any.owner", c::sockets_any_owner);
        boolean domainView = flag(problems, "xenstore.domain.view", c::xenstore_domain_view);
        CreateLimits limits = limits(problems, c);
        QuiesceSettings quiesce = quiesce(problems, c);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return new Settings(runDir, libDir, xenstored, qemuImg, stateDir, roots,
                new QmpTimeouts(connect, greeting, reply, job), qemuImgTimeout, xenstore, lock, busy, parallelism,
                anyOwner, mergeSpeed, limits, xl == null ? Optional.empty() : xl, xlTimeout, quiesce, domainView);
    }

    private static QuiesceSettings quiesce(List<Problem> problems, XensnapConfiguration c) {
        QuiescePolicy policy = null;
        String text = read(problems, "quiesce", c::quiesce);
        if (text != null) {
            try {
                policy = QuiescePolicy.of(text);
            } catch (IllegalArgumentException e) {
                problems.add(new Problem("quiesce", e.getMessage()));
            }
        }
        Duration timeout = timeout(problems, "quiesce.timeout.ms", c::quiesce_timeout_ms);
        Duration maxFreeze = timeout(problems, "quiesce.max.freeze.ms", c::quiesce_max_freeze_ms);
        if (timeout != null && maxFreeze != null && maxFreeze.compareTo(timeout) <= 0) {
            problems.add(new Problem("quiesce.max.freeze.ms", "quiesce.max.freeze.ms = " + maxFreeze.toMillis()
                    + ": must be longer than quiesce.timeout.ms (" + timeout.toMillis() + "), or the watchdog would"
                    + " thaw while the freeze's answer may still come"));
            return null;
        }
        return policy == null || timeout == null || maxFreeze == null ? null
                : new QuiesceSettings(policy, timeout, maxFreeze, c.quiesce_presync());
    }

    private static CreateLimits limits(List<Problem> problems, XensnapConfiguration c) {
        long chain = bounded(problems, "chain.max.length", c::chain_max_length, 2, CreateLimits.MAX_CHAIN_LENGTH);
        long bytes = bounded(problems, "free.space.min.bytes", c::free_space_min_bytes, 0, Long.MAX_VALUE);
        long percent = bounded(problems, "free.space.min.percent", c::free_space_min_percent, 0, 99);
        long internal = bounded(problems, "internal.snapshots.max", c::internal_snapshots_max, 1,
                CreateLimits.QCOW2_MAX_SNAPSHOTS);
        if (chain < 0 || bytes < 0 || percent < 0 || internal < 0) {
            return null;
        }
        return new CreateLimits((int) chain, bytes, (int) percent, (int) internal);
    }

    /** @return the value, or -1 after reporting it as a problem */
    private static long bounded(List<Problem> problems, String key, LongSupplier value, long min, long max) {
        long n;
        try {
            n = value.getAsLong();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + ": not a whole number (" + rootMessage(e) + ")"));
            return -1;
        }
        if (n < min || n > max) {
            problems.add(new Problem(key, key + " = " + n + ": must be " + min + " to " + max));
            return -1;
        }
        return n;
    }

    private Path xenstoredSocket(List<Problem> problems, XensnapConfiguration c) {
        String key = "xenstored.socket";
        String configured = read(problems, key, c::xenstored_socket);
        if (configured == null) {
            return null;
        }
        if (configured.isBlank()) {
            // as libxenstore: the environment of the process, then the compiled-in default
            Path p = XenstoreSocketPath.resolve(null, env);
            socketLength(problems, key, p);
            return p;
        }
        Path p = absolute(problems, key, configured.trim());
        if (p != null) {
            socketLength(problems, key, p);
        }
        return p;
    }

    private static List<Path> overlayRoots(List<Problem> problems, XensnapConfiguration c) {
        String key = "overlay.roots";
        String[] values;
        try {
            values = c.overlay_roots();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + " cannot be read (" + rootMessage(e) + ")"));
            return List.of();
        }
        List<Path> roots = new ArrayList<>();
        // a .cfg file gives one comma-separated string, ConfigAdmin an array; accept both
        for (String v : values == null ? new String[0] : values) {
            for (String part : (v == null ? "" : v).split(",")) {
                if (!part.isBlank()) {
                    Path p = absolute(problems, key, part.trim());
                    if (p != null) {
                        roots.add(p);
                    }
                }
            }
        }
        return roots;
    }

    /** A program xensnap runs as root: an absolute path, and a file only root can have put there. */
    private Path program(List<Problem> problems, String key, Supplier<String> value) {
        Path p = path(problems, key, value);
        if (p == null) {
            return null;
        }
        Optional<String> refusal = programs.refusal(p);
        if (refusal.isPresent()) {
            problems.add(new Problem(key, key + " = '" + p + "': not a program only root can change: "
                    + refusal.get()));
            return null;
        }
        return p;
    }

    /** As {@link #program}, where empty means not configured: the feature that needs it is off. */
    private Optional<Path> optionalProgram(List<Problem> problems, String key, Supplier<String> value) {
        String v = read(problems, key, value);
        if (v == null) {
            return null;
        }
        if (v.isBlank()) {
            return Optional.empty();
        }
        return Optional.ofNullable(program(problems, key, () -> v));
    }

    private static Path path(List<Problem> problems, String key, Supplier<String> value) {
        String v = read(problems, key, value);
        if (v == null) {
            return null;
        }
        if (v.isBlank()) {
            problems.add(new Problem(key, key + " is empty: an absolute path is needed"));
            return null;
        }
        return absolute(problems, key, v.trim());
    }

    private static Path absolute(List<Problem> problems, String key, String v) {
        if (v.indexOf('\0') >= 0 || v.indexOf('\n') >= 0) {
            problems.add(new Problem(key, key + " contains a NUL or newline"));
            return null;
        }
        Path p;
        try {
            p = Path.of(v);
        } catch (InvalidPathException e) {
            problems.add(new Problem(key, key + " = '" + v + "': not a path: " + e.getMessage()));
            return null;
        }
        if (!p.isAbsolute() || !p.normalize().equals(p)) {
            problems.add(new Problem(key, key + " = '" + v + "': must be an absolute path without . or .. parts"));
            return null;
        }
        return p;
    }

    private static void socketLength(List<Problem> problems, String key, Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            problems.add(new Problem(key, key + ": the socket path " + socket + " is " + bytes + " bytes, longer"
                    + " than a UNIX socket allows (" + MAX_SOCKET_PATH_BYTES + ")"));
        }
    }

    private static Duration timeout(List<Problem> problems, String key, LongSupplier value) {
        long ms;
        try {
            ms = value.getAsLong();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + ": not a number of milliseconds (" + rootMessage(e) + ")"));
            return null;
        }
        if (ms < 1 || ms > MAX_TIMEOUT_MS) {
            problems.add(new Problem(key, key + " = " + ms + ": must be 1 to " + MAX_TIMEOUT_MS + " ms (a week)"));
            return null;
        }
        return Duration.ofMillis(ms);
    }

    private static long speed(List<Problem> problems, String key, LongSupplier value) {
        long bytes;
        try {
            bytes = value.getAsLong();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + ": not a number of bytes a second (" + rootMessage(e) + ")"));
            return 0;
        }
        if (bytes < 0) {
            problems.add(new Problem(key, key + " = " + bytes + ": must be 0 (unlimited) or more bytes a second"));
            return 0;
        }
        return bytes;
    }

    private static int parallelism(List<Problem> problems, IntSupplier value) {
        String key = "parallelism";
        int n;
        try {
            n = value.getAsInt();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + ": not a whole number (" + rootMessage(e) + ")"));
            return 1;
        }
        if (n < 1 || n > MAX_PARALLELISM) {
            problems.add(new Problem(key, key + " = " + n + ": must be 1 to " + MAX_PARALLELISM));
        }
        return n;
    }

    private static boolean flag(List<Problem> problems, String key, BooleanSupplier value) {
        try {
            return value.getAsBoolean();
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + ": not true or false (" + rootMessage(e) + ")"));
            return false;
        }
    }

    private static String read(List<Problem> problems, String key, Supplier<String> value) {
        try {
            String v = value.get();
            return v == null ? "" : v;
        } catch (RuntimeException e) {
            problems.add(new Problem(key, key + " cannot be read (" + rootMessage(e) + ")"));
            return null;
        }
    }

    /** SCR wraps a failed conversion, e.g. a NumberFormatException, whose own message says what was given. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }
}
