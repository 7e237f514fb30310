package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import io.xensnap.api.SnapshotError;
import io.xensnap.harness.RealXenstored;

/**
 * Every case of {@link BadInputCorpus} through the service: each fails with its code, and the whole state (files,
 * xenstore, libxl's JSON, catalogs, QEMU's chains and snapshots) is the same after it as before the first case.
 */
class BadInputCorpusTest {

    private static Dom0 dom0;
    private static SnapshotEngine engine;
    private static Map<String, String> vars;
    private static String baseline;

    @BeforeAll
    static void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        vars = BadInputCorpus.prepare(dom0);
        engine = dom0.engine();
        baseline = dom0.fingerprint();
    }

    @AfterAll
    static void stop() {
        if (dom0 != null) {
            dom0.close();
        }
    }

    @Test
    void theCorpusIsLargeAndCoversBothTheValuesAndTheEngine() {
        List<BadInputCorpus.Case> cases = BadInputCorpus.CASES;
        assertThat(cases).hasSizeGreaterThanOrEqualTo(60);
        assertThat(cases.stream().map(BadInputCorpus.Case::id).distinct()).hasSize(cases.size());
        assertThat(cases.stream().map(BadInputCorpus.Case::expected).distinct()).containsExactlyInAnyOrder(
                SnapshotError.INVALID_ARGUMENT, SnapshotError.SNAPSHOT_EXISTS, SnapshotError.NO_SUCH_DOMAIN,
                SnapshotError.NO_SUCH_DISK, SnapshotError.NO_SUCH_SNAPSHOT, SnapshotError.UNSUPPORTED,
                SnapshotError.INVALID_STATE, SnapshotError.CHAIN_TOO_LONG, SnapshotError.TOO_MANY_SNAPSHOTS);
    }

    @TestFactory
    Stream<DynamicTest> everyCaseGivesItsCodeAndChangesNothing() {
        Stream<DynamicTest> cases = BadInputCorpus.CASES.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> {
            BadInputCorpus.Outcome got = BadInputCorpus.throughTheService(engine, c.resolved(vars));
            assertThat(got.code()).as(c.id()).contains(c.expected());
            (got.byValues() ? byValues : byEngine).incrementAndGet();
            assertThat(dom0.fingerprint()).as(c.id() + ": state after the case").isEqualTo(baseline);
        }));
        // both kinds of refusal are exercised in earnest: building the values, and the engine on well-formed ones
        DynamicTest both = DynamicTest.dynamicTest("refused-by-values-and-by-the-engine", () -> {
            System.out.println("corpus: " + byValues + " refused while building the values, " + byEngine
                    + " by the engine");
            assertThat(byValues.get() + byEngine.get()).isEqualTo(BadInputCorpus.CASES.size());
            assertThat(byValues.get()).isGreaterThanOrEqualTo(30);
            assertThat(byEngine.get()).isGreaterThanOrEqualTo(30);
        });
        return Stream.concat(cases, Stream.of(both));
    }

    private static final AtomicInteger byValues = new AtomicInteger();
    private static final AtomicInteger byEngine = new AtomicInteger();
}
