package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
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
                SnapshotError.INVALID_STATE);
    }

    @TestFactory
    Stream<DynamicTest> everyCaseGivesItsCodeAndChangesNothing() {
        return BadInputCorpus.CASES.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> {
            BadInputCorpus.Case resolved = c.resolved(vars);
            Optional<SnapshotError> got = BadInputCorpus.throughTheService(engine, resolved);
            assertThat(got).as(c.id()).contains(c.expected());
            assertThat(dom0.fingerprint()).as(c.id() + ": state after the case").isEqualTo(baseline);
        }));
    }
}
