package io.xensnap.internal.xl;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import io.xensnap.internal.qemuimg.ProcessResult;
import io.xensnap.internal.qemuimg.ProcessRunner;

/**
 * {@link DomainControl} with {@code xl}, run by argv (never through a shell), each run bounded by one timeout. A domain
 * is always named by its domid: a name is the domain's own choice and could look like an option.
 */
public final class XlDomainControl implements DomainControl {

    private final ProcessRunner runner;
    private final String program;
    private final Duration timeout;

    /**
     * @param program the xl binary, e.g. {@code /usr/sbin/xl}
     * @param timeout bound of one xl run; a save writes the domain's whole memory, so it is the longest
     */
    public XlDomainControl(ProcessRunner runner, Path program, Duration timeout) {
        this.runner = Objects.requireNonNull(runner, "runner");
        this.program = Objects.requireNonNull(program, "program").toString();
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public void pause(int domid) throws DomainControlException {
        runOk(List.of("pause", id(domid)));
    }

    @Override
    public void unpause(int domid) throws DomainControlException {
        runOk(List.of("unpause", id(domid)));
    }

    @Override
    public void save(int domid, Path image, boolean leavePaused) throws DomainControlException {
        List<String> args = new ArrayList<>(List.of("save"));
        if (leavePaused) {
            args.add("-p");
        }
        args.add(id(domid));
        args.add(image.toString());
        runOk(args);
    }

    @Override
    public void restore(Path image, Optional<Path> config) throws DomainControlException {
        List<String> args = new ArrayList<>(List.of("restore"));
        config.ifPresent(c -> args.add(c.toString()));
        args.add(image.toString());
        runOk(args);
    }

    @Override
    public void create(Path config) throws DomainControlException {
        runOk(List.of("create", config.toString()));
    }

    @Override
    public String parse(Path config) throws DomainControlException {
        // -N is xl's global dry-run option: it comes before the command
        return runOk(List.of("-N", "create", config.toString())).stdout();
    }

    @Override
    public void destroy(int domid) throws DomainControlException {
        runOk(List.of("destroy", id(domid)));
    }

    @Override
    public DomainState state(int domid) throws DomainControlException {
        ProcessResult r = runOk(List.of("list", id(domid)));
        // a header line, then: name, domid, memory, vCPUs, state, cpu time; the name may hold spaces, the rest not
        String[] lines = r.stdout().strip().split("\n");
        if (lines.length == 2) {
            String[] cols = lines[1].trim().split("\\s+");
            if (cols.length >= 6 && cols[cols.length - 5].equals(id(domid))) {
                try {
                    return new DomainState(cols[cols.length - 2]);
                } catch (IllegalArgumentException e) {
                    throw badOutput(r, e.getMessage());
                }
            }
        }
        throw badOutput(r, "expected a header and one line for domain " + domid);
    }

    private static String id(int domid) {
        if (domid < 1) {
            throw new IllegalArgumentException("not a guest domid: " + domid);
        }
        return Integer.toString(domid);
    }

    private ProcessResult runOk(List<String> args) throws DomainControlException {
        List<String> argv = new ArrayList<>();
        argv.add(program);
        argv.addAll(args);
        ProcessResult r;
        try {
            r = runner.run(argv, timeout);
        } catch (IOException e) {
            throw new DomainControlException(DomainControlException.Reason.NOT_RUN, argv, -1, "",
                    String.join(" ", argv) + " could not be started: " + e.getMessage(), e);
        } catch (TimeoutException e) {
            throw new DomainControlException(DomainControlException.Reason.TIMEOUT, argv, -1, "",
                    e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DomainControlException(DomainControlException.Reason.NOT_RUN, argv, -1, "",
                    String.join(" ", argv) + " was interrupted and killed", e);
        }
        if (r.exitCode() != 0) {
            throw new DomainControlException(DomainControlException.Reason.FAILED, argv, r.exitCode(), r.stderr(),
                    String.join(" ", argv) + " exited " + r.exitCode() + ": " + r.stderr().strip(), null);
        }
        return r;
    }

    private static DomainControlException badOutput(ProcessResult r, String why) {
        return new DomainControlException(DomainControlException.Reason.BAD_OUTPUT, r.argv(), r.exitCode(),
                r.stderr(), String.join(" ", r.argv()) + ": unexpected output (" + why + "): " + r.stdout().strip(),
                null);
    }
}
