package io.xensnap.acceptance;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Which acceptance classes this run holds (all of them, or the one {@code scripts/test-xenbed --only} names), so that
 * the shared host ({@link Dom0Host}) can start the guests of the later classes while the first one waits for Karaf,
 * and none for a class that will not run. JUnit hands the plan to a launcher listener only (registered in
 * {@code META-INF/services}); the listener passes it on as a system property of the test JVM, the way failsafe passes
 * the rest of the suite's settings ({@code xenbed.image}, {@code xensnap.karaf}).
 */
public final class RunPlan implements TestExecutionListener {

    static final String PROPERTY = "xensnap.acceptance.classes";

    @Override
    public void testPlanExecutionStarted(TestPlan plan) {
        Set<String> classes = new TreeSet<>();
        for (TestIdentifier root : plan.getRoots()) {
            for (TestIdentifier id : plan.getDescendants(root)) {
                id.getSource().filter(ClassSource.class::isInstance)
                        .ifPresent(s -> classes.add(((ClassSource) s).getClassName()));
            }
        }
        System.setProperty(PROPERTY, String.join(",", classes));
    }

    /** @return whether {@code test} runs in this run; false when the plan is unknown (no listener ran) */
    static boolean holds(Class<?> test) {
        return Arrays.asList(System.getProperty(PROPERTY, "").split(",")).contains(test.getName());
    }
}
