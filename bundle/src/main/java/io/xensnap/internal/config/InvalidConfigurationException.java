package io.xensnap.internal.config;

import java.util.List;

/** The configuration {@code io.xensnap} has bad values; the message names every bad key and why it is bad. */
public final class InvalidConfigurationException extends Exception {

    private static final long serialVersionUID = 1L;

    private final List<String> keys;
    private final String problems;

    /** @param problems one entry per bad key: the key and what is wrong with its value */
    InvalidConfigurationException(List<Problem> problems) {
        super("configuration " + XensnapConfiguration.PID + " is invalid: "
                + String.join("; ", problems.stream().map(Problem::text).toList()));
        this.problems = String.join("; ", problems.stream().map(Problem::text).toList());
        this.keys = problems.stream().map(Problem::key).toList();
    }

    /** @return what is wrong with each bad key, on one line */
    public String problems() {
        return problems;
    }

    /** @return the bad keys, in the order they were checked */
    public List<String> keys() {
        return keys;
    }

    /** One bad key. */
    record Problem(String key, String text) {
    }
}
