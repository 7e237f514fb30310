package io.xensnap.internal.qemuimg;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/** Runs a program from an argument vector: never through a shell. */
public interface ProcessRunner {

    /**
     * Runs {@code argv} with no input and waits for it.
     *
     * @throws IOException          when the program cannot be started
     * @throws TimeoutException     when it did not end within {@code timeout}; it has been killed by then
     * @throws InterruptedException when interrupted while waiting; the program has been killed by then
     */
    ProcessResult run(List<String> argv, Duration timeout) throws IOException, TimeoutException, InterruptedException;
}
