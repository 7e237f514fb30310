package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotRequest;

class RequestsTest {

    @Test
    void theOneWordDiskFormTakesEverythingAfterTheSecondColonAsThePath() throws Exception {
        assertThat(Requests.disk("xvda:internal")).isEqualTo(DiskSpec.internal("xvda"));
        assertThat(Requests.disk("xvdb:EXTERNAL")).isEqualTo(DiskSpec.external("xvdb", null));
        assertThat(Requests.disk("xvdc:external:/srv/a:b.qcow2"))
                .isEqualTo(DiskSpec.external("xvdc", Path.of("/srv/a:b.qcow2")));
        assertThat(Requests.disk("xvdc", "external", "", "")).isEqualTo(DiskSpec.external("xvdc", null));
        assertThat(Requests.disk("xvdc", "external", null, "RAW").overlayFormat()).isEqualTo(DiskFormat.RAW);
    }

    @Test
    void whatTheValuesRefuseIsInvalidArgumentWithTheirMessage() {
        for (String bad : new String[] {"xvda", "xvda:", "xvda:both", ":internal", "xvda:internal:/x",
                "xvda:external:rel.qcow2", "xvda:external:/a\0b"}) {
            assertThat(Faults.code(() -> Requests.disk(bad))).as(bad).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        }
        assertThat(Faults.code(() -> Requests.disk(null))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(Faults.code(() -> Requests.domain("7\0"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(Faults.code(() -> Requests.name("a/b"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(Faults.code(() -> Requests.create("7", "s1", "", List.of("xvda:internal", "xvda:internal"))))
                .isEqualTo(SnapshotError.INVALID_ARGUMENT);
    }

    @Test
    void aGoodRequestIsBuilt() throws Exception {
        SnapshotRequest r = Requests.create(" 7 ", "s1", "why", List.of("xvda:internal", "xvdc:external"));
        assertThat(r.domain()).isEqualTo(DomainRef.running(7));
        assertThat(r.disks()).containsExactly(DiskSpec.internal("xvda"), DiskSpec.external("xvdc", null));
        assertThat(Requests.domain("6F1E4A52-0D3B-4C8E-9A1F-000000000007"))
                .isEqualTo(DomainRef.shutOff("6f1e4a52-0d3b-4c8e-9a1f-000000000007", List.of()));
    }
}
