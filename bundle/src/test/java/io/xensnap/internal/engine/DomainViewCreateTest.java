package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.xenstore.CountingXenstore;

/**
 * What a create asks of xenstore once the domain view keeps the domain: the engine against a real xenstored and a
 * Xen-like QEMU, every xenstore request counted where it is sent.
 */
class DomainViewCreateTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);
    private static final String BARRIER = "READ /local/domain/" + DOMID + "/vm";

    private Dom0 dom0;
    private RealQemu qemu;
    private CountingXenstore viewSide;
    private CountingXenstore perOperation;
    private DomainWatchView view;
    private SnapshotEngine engine;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        qemu = dom0.domain(DOMID);
        viewSide = new CountingXenstore(dom0.xenstored.socketPath(), Duration.ofSeconds(5));
        perOperation = new CountingXenstore(dom0.xenstored.socketPath(), Duration.ofSeconds(5));
        view = new DomainWatchView(viewSide::open);
        engine = dom0.engine(view, perOperation::open);
    }

    @AfterEach
    void stop() {
        view.close();
        dom0.close();
    }

    private static SnapshotRequest internal(String name) {
        return new SnapshotRequest(DOM, name, "", List.of(DiskSpec.internal("xvda")));
    }

    @Test
    void aSecondCreateReadsNothingFromXenstoreButTwoBarriers() throws Exception {
        engine.create(internal("s1"));
        viewSide.takeSent();
        perOperation.takeSent();
        int opened = perOperation.opened();

        engine.create(internal("s2"));

        // the uuid before the domain's lock, the disks under it: one read each on the watching connection
        assertThat(viewSide.takeSent()).containsExactly(BARRIER, BARRIER);
        assertThat(perOperation.takeSent()).isEmpty();
        assertThat(perOperation.opened()).isEqualTo(opened);
        assertThat(dom0.internalSnapshots(DOMID, "xvda")).containsExactly("s1", "s2");
    }

    @Test
    void aCreateAfterAnExternalSnapshotStacksOnTheOverlayTheFirstOneSwappedIn() throws Exception {
        Path s1 = qemu.disk(2).image().resolveSibling("xvdc.s1.qcow2");
        Path s2 = qemu.disk(2).image().resolveSibling("xvdc.s2.qcow2");
        engine.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.external("xvdc", s1))));
        assertThat(dom0.backendParams(DOMID, "xvdc")).isEqualTo("qcow2:" + s1);
        perOperation.takeSent();

        engine.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.external("xvdc", s2))));

        // the second create knew the disk by the overlay only the changed xenstore backend named
        assertThat(Dom0.chain(s2)).containsExactly(s2.toString(), s1.toString(), qemu.disk(2).image().toString());
        assertThat(dom0.backendParams(DOMID, "xvdc")).isEqualTo("qcow2:" + s2);
        // and read it on the view's connection: the per-operation one only swapped the backend's image
        assertThat(perOperation.takeSent()).noneMatch(r -> r.contains("/local/domain/" + DOMID + "/name"));
    }
}
