package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DomainRef;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.jmx.SnapshotsMBean;

/**
 * The quiesce policies through the three ways in, on a domain whose device model runs a guest with Debian's qemu-ga
 * on the libxl agent channel: the service (the configured default, try), the MBean and the console, and what each
 * shows of a quiesced snapshot.
 */
class QuiesceSurfacesTest {

    private static final int DOMID = 9;

    private static Dom0 dom0;
    private static Surfaces surfaces;

    @BeforeAll
    static void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.agentDomain(DOMID);
        surfaces = new Surfaces(dom0);
    }

    @AfterAll
    static void stop() throws Exception {
        if (surfaces != null) {
            surfaces.close();
        }
        if (dom0 != null) {
            dom0.close();
        }
    }

    @Test
    void theServiceQuiescesByDefaultWhenTheDomainHasAnAgent() throws Exception {
        SnapshotInfo s = surfaces.service.create(SnapshotRequest.allDisks(DomainRef.running(DOMID), "svc1", ""));
        assertThat(s.quiesced()).isTrue();
        assertThat(s.frozen()).isPositive();
        SnapshotInfo never = surfaces.service.create(SnapshotRequest.allDisks(DomainRef.running(DOMID), "svc0", "")
                .withQuiesce(QuiescePolicy.NEVER));
        assertThat(never.quiesced()).isFalse();
    }

    @Test
    void theMBeanTakesThePolicyAndShowsTheFreeze() throws Exception {
        CompositeData required = (CompositeData) surfaces.mbean("createSnapshotWithQuiesce", "9", "jmx1", "", "", "require");
        assertThat(required.get(SnapshotsMBean.QUIESCED)).isEqualTo(true);
        assertThat((Long) required.get(SnapshotsMBean.FROZEN_MS)).isPositive();
        CompositeData never = (CompositeData) surfaces.mbean("createSnapshotWithQuiesce", "9", "jmx0", "", "", "never");
        assertThat(never.get(SnapshotsMBean.QUIESCED)).isEqualTo(false);
        assertThat(never.get(SnapshotsMBean.FROZEN_MS)).isEqualTo(0L);

        CompositeData got = (CompositeData) surfaces.mbean("getSnapshot", "9", "jmx1");
        assertThat(got.get(SnapshotsMBean.QUIESCED)).isEqualTo(true);
        TabularData rows = (TabularData) surfaces.mbean("listSnapshots", "9");
        CompositeData row = rows.get(new Object[] {"jmx1"});
        assertThat(row.get(SnapshotsMBean.QUIESCED)).isEqualTo(true);
        assertThat(row.get(SnapshotsMBean.FROZEN_MS)).isEqualTo(got.get(SnapshotsMBean.FROZEN_MS));
    }

    @Test
    void theConsoleTakesThePolicyAndShowsTheFreeze() throws Exception {
        assertThat(run("snapshot:create --quiesce require 9 con1")).contains("quiesced: yes (guest frozen ");
        assertThat(run("snapshot:create --quiesce never 9 con0")).contains("quiesced: no:");
        assertThat(run("snapshot:info 9 con1")).containsPattern("Quiesced +yes \\(guest frozen \\d+ ms\\)");
        assertThat(run("snapshot:info 9 con0")).containsPattern("Quiesced +no");
        List<String> rows = run("snapshot:list --no-format 9").lines().filter(l -> l.contains("\t")).toList();
        assertThat(rows).anySatisfy(r -> assertThat(r).contains("con1").containsPattern("\t *\\d+ ms\t"));
        assertThat(rows).anySatisfy(r -> assertThat(r).contains("con0").containsPattern("\t *-\t"));
    }

    private static String run(String line) throws Exception {
        int from = surfaces.console().size();
        surfaces.session.execute(line);
        byte[] all = surfaces.console().toByteArray();
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }
}
