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

/**
 * docs/configuration.md lists every key of the metatype with its default, and nothing else. The metatype is generated
 * by bnd from {@link XensnapConfiguration} (method {@code a_b()} is key {@code a.b}), so that is what is compared.
 */
class ConfigurationDocTest {

    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9.]+)` \\| ([^|]*) \\|", Pattern.MULTILINE);

    @Test
    void theDocumentedKeysAndDefaultsAreTheMetatypes() throws Exception {
        Map<String, String> metatype = new TreeMap<>();
        for (Method m : XensnapConfiguration.class.getDeclaredMethods()) {
            metatype.put(m.getName().replace('_', '.'), text(m.getDefaultValue()));
        }

        String doc = Files.readString(Path.of("..", "docs", "configuration.md"), StandardCharsets.UTF_8);
        String keysTable = doc.substring(0, doc.indexOf("| operation |") > 0 ? doc.indexOf("| operation |") : doc.length());
        Map<String, String> documented = new TreeMap<>();
        Matcher m = ROW.matcher(keysTable);
        while (m.find()) {
            String v = m.group(2).trim().replace("`", "");
            documented.put(m.group(1), v.equals("empty") ? "" : v);
        }

        assertThat(documented).as("keys and defaults in docs/configuration.md vs the metatype").isEqualTo(metatype);
    }

    private static String text(Object defaultValue) {
        if (defaultValue instanceof String[] a) {
            return String.join(",", Arrays.asList(a));
        }
        return String.valueOf(defaultValue);
    }
}
