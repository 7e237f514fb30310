package io.xensnap.itests;

import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import org.ops4j.pax.exam.CoreOptions;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.options.MavenArtifactUrlReference;

/**
 * The options every xensnap itest boots Karaf with. Runs on the host side (in {@code @Configuration}).
 */
final class KarafOptions {

    static final String CFG_MVN = "etc/org.ops4j.pax.url.mvn.cfg";

    /**
     * A Karaf user with Karaf's admin roles, one with the viewer role only, one with the manager role only. Stock Karaf
     * enables no user.
     */
    static final String ADMIN = "xadmin";
    static final String ADMIN_PASSWORD = "xadmin-secret";
    static final String VIEWER = "xviewer";
    static final String VIEWER_PASSWORD = "xviewer-secret";
    /** Karaf's manager role alone: it may configure Karaf, but not xensnap. */
    static final String MANAGER = "xmanager";
    static final String MANAGER_PASSWORD = "xmanager-secret";

    private KarafOptions() {
    }

    /** @return the features repository this build made */
    static MavenArtifactUrlReference xensnapFeatures() {
        return maven("io.xensnap", "xensnap-features").classifier("features").type("xml").versionAsInProject();
    }

    static List<Option> base() {
        String karafVersion = required("karaf.version");
        String localRepo = required("xensnap.localRepository");
        String itestRepo = new File(required("xensnap.itestRepo")).toURI().toString();
        List<Option> o = new ArrayList<>();
        o.add(karafDistributionConfiguration()
                .frameworkUrl(maven("org.apache.karaf", "apache-karaf").type("tar.gz").versionAsInProject())
                .unpackDirectory(new File(required("xensnap.examDir")))
                .useDeployFolder(false));
        // kept so karaf.log can be read after a failure; `mvn clean` removes it
        o.add(keepRuntimeFolder());
        o.add(configureConsole().ignoreLocalConsole());
        o.add(logLevel(LogLevel.INFO));
        o.add(CoreOptions.systemTimeout(120_000));
        // The container resolves mvn: URLs itself. Serve this build's artifacts first, so a stale SNAPSHOT in
        // ~/.m2 can never be tested by mistake; then Karaf's own system repo; then the local repo Maven filled.
        o.add(editConfigurationFilePut(CFG_MVN, "org.ops4j.pax.url.mvn.localRepository", localRepo));
        o.add(editConfigurationFilePut(CFG_MVN, "org.ops4j.pax.url.mvn.defaultRepositories",
                itestRepo + "@id=itest@snapshots, "
                        + "${karaf.home.uri}${karaf.default.repository}@id=system.repository@snapshots, "
                        + "${karaf.data.uri}kar@id=kar.repository@multi@snapshots"));
        o.add(editConfigurationFilePut(CFG_MVN, "org.ops4j.pax.url.mvn.repositories",
                "https://repo1.maven.org/maven2@id=central"));
        // Karaf's default 8101 would collide with a second build or a running demo.
        o.add(editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", Integer.toString(freePort())));
        o.add(editConfigurationFilePut("etc/users.properties", ADMIN,
                ADMIN_PASSWORD + ",admin,manager,viewer,systembundles,ssh"));
        o.add(editConfigurationFilePut("etc/users.properties", VIEWER, VIEWER_PASSWORD + ",viewer"));
        o.add(editConfigurationFilePut("etc/users.properties", MANAGER, MANAGER_PASSWORD + ",manager"));
        o.add(systemProperty("xensnap.itestRepo").value(required("xensnap.itestRepo")));
        // JNA unpacks its native library; keep it inside target/, not in ~/.cache
        o.add(systemProperty("jna.tmpdir").value(new File(required("xensnap.examDir"), "jna").getAbsolutePath()));
        o.addAll(java17Flags(karafVersion));
        return o;
    }

    /** What bin/karaf passes on Java 9+; Pax Exam builds its own command line and would leave them out. */
    private static List<Option> java17Flags(String kv) {
        List<Option> o = new ArrayList<>();
        for (String f : List.of(
                "--add-reads=java.xml=java.logging",
                "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
                "--patch-module", "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + kv + ".jar",
                "--patch-module", "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + kv + ".jar",
                "--add-opens", "java.base/java.security=ALL-UNNAMED",
                "--add-opens", "java.base/java.net=ALL-UNNAMED",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--add-opens", "java.base/java.util=ALL-UNNAMED",
                "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
                "--add-opens", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.ftp=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
                "--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED",
                "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
                "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
                "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                "--add-exports=java.security.sasl/com.sun.security.sasl=ALL-UNNAMED",
                "--add-exports=java.naming/com.sun.jndi.ldap=ALL-UNNAMED",
                "-classpath", "lib/jdk9plus/*:lib/boot/*")) {
            o.add(vmOption(f));
        }
        return o;
    }

    private static String required(String key) {
        String v = System.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("system property " + key + " is not set: run the itests through Maven (failsafe sets it)");
        }
        return v;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
