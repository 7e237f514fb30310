package io.xensnap.internal.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs independent steps (one qemu-img per disk) on at most {@code parallelism} threads and waits for all of them,
 * also when some fail: a step that is still running must not be abandoned while the caller starts undoing. An
 * {@link Error} from a step is rethrown once every step has ended.
 */
public final class Parallel {

    /** One step; {@link Outcome#failure()} is empty when it succeeded. */
    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    public record Outcome(int index, Exception failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    private Parallel() {
    }

    public static List<Outcome> run(List<Step> steps, int parallelism) {
        List<Outcome> out = new ArrayList<>();
        if (steps.size() <= 1 || parallelism <= 1) {
            for (int i = 0; i < steps.size(); i++) {
                out.add(runOne(i, steps.get(i)));
            }
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, steps.size()), r -> {
            Thread t = new Thread(r, "xensnap-disk-step");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            Error fatal = null;
            for (int i = 0; i < steps.size(); i++) {
                int index = i;
                futures.add(pool.submit(() -> runOne(index, steps.get(index))));
            }
            for (Future<Outcome> f : futures) {
                boolean interrupted = false;
                while (true) {
                    try {
                        out.add(f.get());
                        break;
                    } catch (InterruptedException e) {
                        // keep waiting: the step is changing an image and must finish before anyone undoes it
                        interrupted = true;
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof Error err)) {
                            throw new IllegalStateException("a disk step escaped its own error handling", e.getCause());
                        }
                        // the JVM is failing (or a test simulates the process dying): no outcome, no undo
                        fatal = fatal == null ? err : fatal;
                        break;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (fatal != null) {
                throw fatal;
            }
            return out;
        } finally {
            pool.shutdown();
        }
    }

    private static Outcome runOne(int index, Step step) {
        try {
            step.run();
            return new Outcome(index, null);
        } catch (Exception e) {
            return new Outcome(index, e);
        }
    }
}
