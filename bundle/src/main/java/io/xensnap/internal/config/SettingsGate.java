package io.xensnap.internal.config;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides which {@link Settings} are in force as the configuration {@code io.xensnap} changes: a valid configuration
 * replaces them; an invalid one is refused and, once a valid one was applied, that one stays in force. Whoever may
 * change the configuration cannot so take xensnap down, nor make it run with a value it refuses.
 *
 * <p>A configuration that names none of xensnap's keys, after one that named some, is refused too: that is what Karaf
 * hands over when its file installer read {@code etc/io.xensnap.cfg} at the instant it was being rewritten in place
 * (empty), and applying it would put xensnap on its defaults (another catalog, other sockets) without anyone asking.
 * Going back to the defaults on purpose means writing them, or deleting the configuration.
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

    /** xensnap's own keys, as DS names them from the configuration's methods ({@code merge_speed}: merge.speed) */
    static final Set<String> KEYS = Arrays.stream(XensnapConfiguration.class.getDeclaredMethods())
            .map(m -> m.getName().replace('_', '.')).collect(Collectors.toUnmodifiableSet());

    private final ConfigurationValidator validator;
    private Settings inForce;
    private boolean inForceNamedKeys;

    SettingsGate(ConfigurationValidator validator) {
        this.validator = validator;
    }

    /** @param keys the keys the configuration holds (its properties' names; Karaf's and DS's own ones are ignored) */
    Outcome offer(XensnapConfiguration config, Set<String> keys) {
        boolean namesKeys = keys.stream().anyMatch(KEYS::contains);
        if (!namesKeys && inForce != null && inForceNamedKeys) {
            return new Outcome.Refused("configuration " + XensnapConfiguration.PID + " arrived without any of"
                    + " xensnap's keys, as when etc/io.xensnap.cfg was read while being rewritten (empty); it was not"
                    + " applied, xensnap keeps running with the previous configuration. To go back to the defaults,"
                    + " write them into the file", true);
        }
        try {
            inForce = validator.validate(config);
            inForceNamedKeys = namesKeys;
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
