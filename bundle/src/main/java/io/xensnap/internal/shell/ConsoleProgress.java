package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.Locale;

import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.surface.Visible;

/**
 * Prints progress lines to the console: a merge in percent, other steps as they finish. A merge whose total is still
 * 0 has nothing to copy (yet: QEMU's total grows when the guest writes), which is said in words, since a percentage of
 * nothing would read as a merge that never moved.
 */
final class ConsoleProgress implements Progress {

    private final PrintStream out;
    /** Stands for "nothing to copy" in {@link #lastPercent}, which otherwise holds 0..100. */
    private static final int NOTHING = -2;

    private int lastPercent = -1;
    private String lastStep = "";

    ConsoleProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public synchronized void report(String rawStep, long done, long total, Unit unit) {
        String step = Visible.text(rawStep);
        if (unit == Unit.DISKS) {
            out.println("  " + step + " (" + done + " of " + total + (total == 1 ? " disk)" : " disks)"));
            return;
        }
        int percent = total <= 0 ? NOTHING : (int) Math.min(100, done * 100 / total);
        // QEMU reports every few hundred ms; print only when the number changes
        if (percent != lastPercent || !step.equals(lastStep)) {
            out.println("  " + step + (percent == NOTHING ? ": nothing to copy so far"
                    : ": " + percent + "% (" + mib(done) + " of " + mib(total) + " MiB)"));
            lastPercent = percent;
            lastStep = step;
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }
}
