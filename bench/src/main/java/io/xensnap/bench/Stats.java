package io.xensnap.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Timings of repeated runs of one thing, warm-up already excluded: median and the 10th–90th percentile spread.
 *
 * @param samplesMs one value per measured run, in milliseconds
 */
public record Stats(double[] samplesMs) {

    public Stats {
        if (samplesMs.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        samplesMs = samplesMs.clone();
        Arrays.sort(samplesMs);
    }

    public static Stats ofNanos(List<Long> nanos) {
        return new Stats(nanos.stream().mapToDouble(n -> n / 1e6).toArray());
    }

    public int n() {
        return samplesMs.length;
    }

    public double median() {
        return quantile(0.5);
    }

    public double p10() {
        return quantile(0.1);
    }

    public double p90() {
        return quantile(0.9);
    }

    public double min() {
        return samplesMs[0];
    }

    public double max() {
        return samplesMs[samplesMs.length - 1];
    }

    /** Linear interpolation between the closest ranks. */
    public double quantile(double q) {
        double pos = q * (samplesMs.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return samplesMs[lo] + (samplesMs[hi] - samplesMs[lo]) * (pos - lo);
    }

    /** @return e.g. {@code 12.3 [10.1–15.0]} */
    public String cell() {
        return ms(median()) + " [" + ms(p10()) + "–" + ms(p90()) + "]";
    }

    static String ms(double v) {
        // by magnitude: a difference of medians may be negative
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** @return {@code a/b} of the medians, e.g. {@code 1.08×} */
    public static String ratio(Stats a, Stats b) {
        return String.format(Locale.ROOT, "%.2f×", a.median() / b.median());
    }
}
