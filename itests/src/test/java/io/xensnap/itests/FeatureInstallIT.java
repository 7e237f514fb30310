package io.xensnap.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** The xensnap feature installs into a stock Karaf 4.4.10 and its bundle starts. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FeatureInstallIT {

    private static final String BSN = "io.xensnap";

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        // only the repository: the feature is installed by the test, so a resolver error arrives as the test's
        // exception instead of a container that never comes up
        o.add(features(KarafOptions.xensnapFeatures()));
        return o.toArray(new Option[0]);
    }

    @Test
    public void featureInstallsAndBundleIsActive() throws Exception {
        features.installFeature("xensnap", EnumSet.noneOf(FeaturesService.Option.class));

        assertTrue("feature xensnap installed", features.isInstalled(features.getFeature("xensnap")));
        Bundle bundle = xensnapBundle();
        assertEquals("state of " + BSN + " (32 = ACTIVE)", Bundle.ACTIVE, bundle.getState());
        String exported = bundle.getHeaders().get("Export-Package");
        assertTrue("exports the API with a version: " + exported, exported.contains("io.xensnap.api;version=\"1.0.0\""));
    }

    @Test
    public void installedBundleIsTheOneThisBuildMade() throws Exception {
        features.installFeature("xensnap", EnumSet.noneOf(FeaturesService.Option.class));
        Bundle bundle = xensnapBundle();

        Path fresh;
        try (Stream<Path> s = Files.walk(Path.of(System.getProperty("xensnap.itestRepo")))) {
            fresh = s.filter(p -> p.getFileName().toString().matches("xensnap-bundle-.*\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no xensnap-bundle jar in the itest repo"));
        }
        assertEquals("class files of the bundle Karaf runs vs. the jar this build made",
                digestOfJar(fresh), digestOfBundle(bundle));
    }

    private Bundle xensnapBundle() {
        for (Bundle b : context.getBundles()) {
            if (BSN.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + BSN + " is not installed");
    }

    private static String digestOfJar(Path jar) throws Exception {
        TreeMap<String, byte[]> entries = new TreeMap<>();
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (JarEntry e : Collections.list(jf.entries())) {
                if (e.getName().endsWith(".class")) {
                    try (InputStream in = jf.getInputStream(e)) {
                        entries.put(e.getName(), in.readAllBytes());
                    }
                }
            }
        }
        return digest(entries);
    }

    private static String digestOfBundle(Bundle bundle) throws Exception {
        TreeMap<String, byte[]> entries = new TreeMap<>();
        for (java.net.URL url : Collections.list(bundle.findEntries("/", "*.class", true))) {
            String name = url.getPath().startsWith("/") ? url.getPath().substring(1) : url.getPath();
            try (InputStream in = url.openStream()) {
                entries.put(name, in.readAllBytes());
            }
        }
        assertNotNull("bundle has no class files", entries.isEmpty() ? null : entries);
        return digest(entries);
    }

    private static String digest(TreeMap<String, byte[]> entries) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        entries.forEach((name, bytes) -> {
            md.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            md.update(bytes);
        });
        StringBuilder sb = new StringBuilder(entries.size() + " classes ");
        for (byte b : md.digest()) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
