package io.xensnap.internal.engine;

import java.util.ArrayDeque;
import java.util.Deque;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The side effects an operation has made so far, each with the step that reverses it. On failure they are undone
 * newest first; an undo that fails does not stop the others and is attached to the original error as suppressed,
 * so the caller sees what went wrong first and what could not be cleaned up.
 */
public final class UndoLog {

    private static final Logger LOG = LoggerFactory.getLogger(UndoLog.class);

    /** Reverses one side effect. */
    @FunctionalInterface
    public interface Undo {
        void run() throws Exception;
    }

    private record Step(String what, Undo undo) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    /** Records that {@code what} was done and how to reverse it. Call right after the side effect succeeded. */
    public void done(String what, Undo undo) {
        steps.push(new Step(what, undo));
    }

    /** Forgets every step: past the point of no return the effects are kept. */
    public void commit() {
        steps.clear();
    }

    public boolean isEmpty() {
        return steps.isEmpty();
    }

    /**
     * Undoes recorded steps newest first and stops at the first that fails, adding its failure to {@code cause} as
     * suppressed. For an operation whose pending mark lets reconcile continue from exactly where this stopped: the
     * older steps must stay done, because undoing them on top of a failed newer one would lose what that one guards
     * (a revert must not drop a disk's undo snapshot when putting the disk back to it failed).
     *
     * @return whether every step was undone
     */
    public boolean rollbackUntilFailure(Throwable cause) {
        while (!steps.isEmpty()) {
            Step s = steps.peek();
            try {
                s.undo().run();
                steps.pop();
                LOG.debug("undone: {}", s.what());
            } catch (Exception e) {
                cause.addSuppressed(new Exception("could not undo: " + s.what() + ": " + e.getMessage()
                        + "; the older steps stay done", e));
                steps.clear();
                return false;
            }
        }
        return true;
    }

    /** Undoes every recorded step, newest first, adding each failure to {@code cause} as suppressed. */
    public void rollback(Throwable cause) {
        while (!steps.isEmpty()) {
            Step s = steps.pop();
            try {
                s.undo().run();
                LOG.debug("undone: {}", s.what());
            } catch (Exception e) {
                Exception wrapped = new Exception("could not undo: " + s.what() + ": " + e.getMessage(), e);
                cause.addSuppressed(wrapped);
            }
        }
    }
}
