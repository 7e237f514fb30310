package io.xensnap.internal.config;

import java.util.Optional;

/**
 * Decides which {@link Settings} are in force as the configuration {@code io.xensnap} changes: a valid configuration
 * replaces them; an invalid one is refused and, once a valid one was applied, that one stays in force. Whoever may
 * change the configuration cannot so take xensnap down, nor make it run with a value it refuses.
 */
final class SettingsGate {

    /** What became of one configuration offered to the gate. */
    sealed interface Outcome {

        /** @param settings the new settings in force */
        record Accepted(Settings settings) implements Outcome {
        }

        /**
         * @param line         the one log line: every bad key, why, and what stays in force
         * @param keptPrevious whether earlier settings stay in force; false: xensnap stays inactive
         */
        record Refused(String line, boolean keptPrevious) implements Outcome {
        }
    }

    private final ConfigurationValidator validator;
    private Settings inForce;

    SettingsGate(ConfigurationValidator validator) {
        this.validator = validator;
    }

    Outcome offer(XensnapConfiguration config) {
        try {
            inForce = validator.validate(config);
            return new Outcome.Accepted(inForce);
        } catch (InvalidConfigurationException e) {
            String consequence = inForce == null
                    ? "xensnap stays inactive until it is fixed"
                    : "it was not applied, xensnap keeps running with the previous configuration until it is fixed";
            return new Outcome.Refused("configuration " + XensnapConfiguration.PID + " is invalid, " + consequence
                    + ": " + e.problems(), inForce != null);
        }
    }

    /** @return the settings in force, empty until a valid configuration was offered */
    Optional<Settings> inForce() {
        return Optional.ofNullable(inForce);
    }
}
