package io.xensnap.internal.engine.quiesce;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Runs an action after a delay unless cancelled first; the thaw that comes even when the creating thread is stuck. */
@FunctionalInterface
public interface Watchdog {

    /** A watch that was set. */
    interface Armed {
        /** Makes sure the action does not start; one that already started runs to its end. */
        void cancel();
    }

    Armed arm(Duration after, Runnable action);

    /** Production's watchdog: a daemon thread per freeze, which sleeps through the delay. */
    static Watchdog threads() {
        return (after, action) -> {
            // 0 waiting, 1 cancelled, 2 fired
            AtomicInteger state = new AtomicInteger();
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(Math.max(1, after.toMillis()));
                } catch (InterruptedException e) {
                    return;
                }
                if (state.compareAndSet(0, 2)) {
                    action.run();
                }
            }, "xensnap-thaw-watchdog");
            t.setDaemon(true);
            t.start();
            return () -> {
                // an interrupt only while it sleeps: a thaw under way must not be cut short
                if (state.compareAndSet(0, 1)) {
                    t.interrupt();
                }
            };
        };
    }
}
