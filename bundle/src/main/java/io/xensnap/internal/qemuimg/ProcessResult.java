package io.xensnap.internal.qemuimg;

import java.util.List;
import java.util.Objects;

/** What a finished program left: exit code and both output streams, decoded as UTF-8. */
public record ProcessResult(List<String> argv, int exitCode, String stdout, String stderr) {

    public ProcessResult {
        argv = List.copyOf(argv);
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }
}
