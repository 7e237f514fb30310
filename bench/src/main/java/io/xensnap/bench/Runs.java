package io.xensnap.bench;

/** How many runs each measurement takes; warm-up runs are done first and never counted. */
record Runs(int warmup, int measured) {

    Runs {
        if (warmup < 0 || measured < 1) {
            throw new IllegalArgumentException("warmup " + warmup + ", measured " + measured);
        }
    }

    int total() {
        return warmup + measured;
    }

    boolean counts(int iteration) {
        return iteration >= warmup;
    }

    /** @return this with the measured runs scaled by {@code factor} (at least 3) */
    Runs scaled(double factor) {
        return new Runs(warmup, Math.max(3, (int) Math.round(measured * factor)));
    }
}
