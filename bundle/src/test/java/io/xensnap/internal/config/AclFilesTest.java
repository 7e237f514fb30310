package io.xensnap.internal.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The ACLs that keep xensnap's configuration an admin's are shipped twice: in the feature, for a Karaf that installs
 * it, and as files of the distribution. Both must say the same; the itests check what they do in a real Karaf.
 */
class AclFilesTest {

    private static final Path FEATURE = Path.of("..", "features", "src", "main", "feature", "feature.xml");
    private static final Path ETC = Path.of("..", "distribution", "src", "main", "resources", "assembly", "etc");

    @Test
    void theDistributionHasEveryRuleOfTheFeature() throws Exception {
        for (String pid : new String[] {"org.apache.karaf.command.acl.config", "jmx.acl.org.apache.karaf.config._",
                "jmx.acl.osgi.compendium.cm._._"}) {
            Properties feature = featureConfig(pid);
            Properties distribution = new Properties();
            distribution.load(new StringReader(Files.readString(ETC.resolve(pid + ".cfg"), StandardCharsets.UTF_8)));

            assertThat(feature).as(pid + " in the feature").isNotEmpty();
            assertThat(distribution).as(pid + ": the distribution's etc/ vs the feature").isEqualTo(feature);
        }
    }

    @Test
    void theFeatureAppendsToKarafsShellAclAndKeepsKarafsDefaults() throws Exception {
        String xml = Files.readString(FEATURE, StandardCharsets.UTF_8);
        assertThat(xml).contains("<config name=\"org.apache.karaf.command.acl.config\" append=\"true\">");
        Properties shell = featureConfig("org.apache.karaf.command.acl.config");
        assertThat(shell.getProperty("property-set")).isEqualTo("manager");
        assertThat(shell.getProperty("delete")).isEqualTo("admin");
        assertThat(shell.getProperty("property-set[/(?s).*io[.]xensnap.*/]")).isEqualTo("admin");
    }

    private static Properties featureConfig(String pid) throws Exception {
        String xml = Files.readString(FEATURE, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("<config name=\"" + Pattern.quote(pid) + "\"[^>]*>(.*?)</config>", Pattern.DOTALL)
                .matcher(xml);
        Properties p = new Properties();
        if (m.find()) {
            p.load(new StringReader(m.group(1)));
        }
        return p;
    }
}
