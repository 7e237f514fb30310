package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Finding;

class ReconcileLinesTest {

    private static final String A = "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13";
    private static final String B = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    @Test
    void aCleanDomainIsOneLineEndingInClean() {
        assertThat(ReconcileLines.of(new ReconcileReport(A, List.of()))).containsExactly(A + " clean");
    }

    @Test
    void everyFindingIsOneLineWithTheDomainFirstAndRepairedMarked() {
        ReconcileReport r = new ReconcileReport(A, List.of(
                new Finding(Code.ORPHAN_REMOVED, true, "/img/b.s1.qcow2", "empty overlay of ours, unused"),
                new Finding(Code.REVERT_AMBIGUOUS, false, "s1", "revert of s1 was interrupted")));

        assertThat(ReconcileLines.of(r)).containsExactly(
                A + " [ORPHAN_REMOVED] /img/b.s1.qcow2: empty overlay of ours, unused (repaired)",
                A + " [REVERT_AMBIGUOUS] s1: revert of s1 was interrupted");
    }

    @Test
    void severalDomainsKeepTheirOrderAndNoDomainSaysSo() {
        ReconcileReport dirty = new ReconcileReport(B, List.of(
                new Finding(Code.IMAGE_MISSING, false, "xvdb", "/img/b.raw does not exist")));

        assertThat(ReconcileLines.of(List.of(new ReconcileReport(A, List.of()), dirty))).containsExactly(
                A + " clean", B + " [IMAGE_MISSING] xvdb: /img/b.raw does not exist");
        assertThat(ReconcileLines.of(List.<ReconcileReport>of())).containsExactly(ReconcileLines.NOTHING);
        assertThat(ReconcileLines.NOTHING).startsWith("clean");
    }
}
