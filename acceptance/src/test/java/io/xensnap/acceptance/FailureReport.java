package io.xensnap.acceptance;

import java.time.Duration;
import java.util.function.Supplier;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import io.xensnap.harness.XenBed;

/**
 * On a failed step: prints what an engineer needs to see without the bed, which is gone by then: Xen's and dom0's
 * console tails, the guest consoles, Karaf's console and log tails, libxl's view.
 */
final class FailureReport implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

    private final Supplier<XenBed> bed;
    private final Supplier<Dom0Karaf> karaf;

    FailureReport(Supplier<XenBed> bed, Supplier<Dom0Karaf> karaf) {
        this.bed = bed;
        this.karaf = karaf;
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable failure)
            throws Throwable {
        handleTestExecutionException(context, failure);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        XenBed b = bed.get();
        if (b != null && b.isAlive()) {
            StringBuilder s = new StringBuilder("[acceptance] " + context.getDisplayName() + " failed; the host:")
                    .append(b.diagnostics());
            try {
                s.append("\n--- dom0: xl list, guest consoles, xl and device-model logs, xensnap's log ---\n")
                        .append(b.run(Duration.ofMinutes(1), "sh", "-c", "xl list; tail -n 40"
                                + " /var/log/xen/console/guest-*.log /var/log/xen/*.log 2>&1; grep -i xensnap "
                                + Dom0Karaf.HOME + "/data/log/karaf.log | tail -n 60").stdout());
                if (karaf.get() != null) {
                    s.append("\n--- Karaf's console ---\n").append(karaf.get().tail(60));
                }
            } catch (RuntimeException e) {
                s.append("\n(could not read more: ").append(e).append(')');
            }
            System.err.println(s);
        }
        throw failure;
    }
}
