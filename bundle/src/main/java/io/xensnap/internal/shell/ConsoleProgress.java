package io.xensnap.internal.shell;

import java.io.PrintStream;
import java.util.Locale;

import io.xensnap.internal.Visible;
import io.xensnap.internal.engine.Progress;

/** Prints progress lines to the console: a merge in percent, other steps as they finish. */
final class ConsoleProgress implements Progress {

    private final PrintStream out;
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
        int percent = total <= 0 ? 0 : (int) Math.min(100, done * 100 / total);
        // QEMU reports every few hundred ms; print only when the number changes
        if (percent != lastPercent || !step.equals(lastStep)) {
            out.println("  " + step + ": " + percent + "% (" + mib(done) + " of " + mib(total) + " MiB)");
            lastPercent = percent;
            lastStep = step;
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }
}
