package io.xensnap.internal.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.qmp.QmpTimeouts;

/**
 * The defaults of the configuration have one source, the metatype: bnd generates it from {@link XensnapConfiguration}
 * (method {@code a_b()} is key {@code a.b}). Every other place that writes them down is compared with it here:
 * docs/configuration.md, the {@code <config>} block the feature installs, {@link QmpTimeouts#defaults()} and the tests'
 * {@link TestConfiguration}.
 */
class ConfigurationDocTest {

    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9.]+)` \\| ([^|]*) \\|", Pattern.MULTILINE);

    private static final Pattern FEATURE_CONFIG =
            Pattern.compile("<config name=\"io\\.xensnap\">(.*?)</config>", Pattern.DOTALL);

    @Test
    void theDocumentedKeysAndDefaultsAreTheMetatypes() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"), StandardCharsets.UTF_8);
        int schedules = doc.indexOf(SCHEDULE_SECTION);
        assertThat(schedules).as("docs/configuration.md has a section on schedules").isPositive();

        assertThat(rows(doc.substring(0, schedules))).as("keys and defaults in docs/configuration.md vs the metatype")
                .isEqualTo(metatypeDefaults());
        int end = doc.indexOf("\n## ", schedules + 1);
        assertThat(rows(doc.substring(schedules, end < 0 ? doc.length() : end)))
                .as("schedule keys and defaults in docs/configuration.md vs the metatype")
                .isEqualTo(defaults(Class.forName("io.xensnap.internal.schedule.ScheduleConfiguration")));
    }

    private static final String SCHEDULE_SECTION = "## `etc/io.xensnap.schedule-<name>.cfg`";

    private static Map<String, String> rows(String table) {
        Map<String, String> documented = new TreeMap<>();
        Matcher m = ROW.matcher(table);
        while (m.find()) {
            String v = m.group(2).trim().replace("`", "");
            documented.put(m.group(1), v.equals("empty") ? "" : v);
        }
        return documented;
    }

    @Test
    void theFeaturesConfigurationIsTheMetatypes() throws Exception {
        String feature = Files.readString(Path.of("..", "features", "src", "main", "feature", "feature.xml"),
                StandardCharsets.UTF_8);
        Matcher block = FEATURE_CONFIG.matcher(feature);
        assertThat(block.find()).as("a <config name=\"io.xensnap\"> block in feature.xml").isTrue();
        Map<String, String> installed = new TreeMap<>();
        for (String line : block.group(1).split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int eq = t.indexOf('=');
            installed.put(t.substring(0, eq).strip(), t.substring(eq + 1).strip());
        }

        assertThat(installed).as("keys and values feature.xml installs vs the metatype").isEqualTo(metatypeDefaults());
    }

    @Test
    void qmpTimeoutDefaultsAreTheMetatypes() {
        Map<String, String> metatype = metatypeDefaults();
        QmpTimeouts d = QmpTimeouts.defaults();

        assertThat(Map.of(
                "qmp.connect.timeout.ms", String.valueOf(d.connect().toMillis()),
                "qmp.greeting.timeout.ms", String.valueOf(d.greeting().toMillis()),
                "qmp.reply.timeout.ms", String.valueOf(d.reply().toMillis()),
                "job.timeout.ms", String.valueOf(d.job().toMillis())))
                .as("QmpTimeouts.defaults() vs the metatype")
                .isEqualTo(Map.of(
                        "qmp.connect.timeout.ms", metatype.get("qmp.connect.timeout.ms"),
                        "qmp.greeting.timeout.ms", metatype.get("qmp.greeting.timeout.ms"),
                        "qmp.reply.timeout.ms", metatype.get("qmp.reply.timeout.ms"),
                        "job.timeout.ms", metatype.get("job.timeout.ms")));
    }

    @Test
    void createLimitDefaultsAreTheMetatypes() {
        Map<String, String> metatype = metatypeDefaults();
        CreateLimits d = CreateLimits.defaults();

        assertThat(Map.of(
                "chain.max.length", String.valueOf(d.maxChainLength()),
                "free.space.min.bytes", String.valueOf(d.minFreeBytes()),
                "free.space.min.percent", String.valueOf(d.minFreePercent()),
                "internal.snapshots.max", String.valueOf(d.maxInternalSnapshots())))
                .as("CreateLimits.defaults() vs the metatype")
                .isEqualTo(Map.of(
                        "chain.max.length", metatype.get("chain.max.length"),
                        "free.space.min.bytes", metatype.get("free.space.min.bytes"),
                        "free.space.min.percent", metatype.get("free.space.min.percent"),
                        "internal.snapshots.max", metatype.get("internal.snapshots.max")));
    }

    @Test
    void theTestConfigurationStartsFromTheMetatypes() throws Exception {
        TestConfiguration config = new TestConfiguration();
        Map<String, String> given = new TreeMap<>();
        for (Method m : XensnapConfiguration.class.getDeclaredMethods()) {
            given.put(m.getName().replace('_', '.'), text(m.invoke(config)));
        }

        assertThat(given).as("TestConfiguration's values vs the metatype").isEqualTo(metatypeDefaults());
    }

    private static Map<String, String> metatypeDefaults() {
        return defaults(XensnapConfiguration.class);
    }

    /** @return key to default; a key without one is documented as "(required)" */
    private static Map<String, String> defaults(Class<?> configuration) {
        Map<String, String> metatype = new TreeMap<>();
        for (Method m : configuration.getDeclaredMethods()) {
            Object d = m.getDefaultValue();
            metatype.put(m.getName().replace('_', '.'), d == null ? "(required)" : text(d));
        }
        return metatype;
    }

    private static String text(Object defaultValue) {
        if (defaultValue instanceof String[] a) {
            return String.join(",", Arrays.asList(a));
        }
        return String.valueOf(defaultValue);
    }
}
