package io.xensnap.internal.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.CountingXenstore;

/** The service keeps its domain view for its life when {@code xenstore.domain.view} is on, and has none when off. */
class SnapshotServiceDomainViewTest {

    private static final int DOMID = 7;
    private static final DomainRef DOM = DomainRef.running(DOMID);

    private static Settings settings(Dom0 dom0, boolean domainView) {
        return new Settings(dom0.host.root().resolve("var/run/xen"), dom0.host.libxlDir(),
                dom0.xenstored.socketPath(), Path.of("/usr/bin/qemu-img"), dom0.state, List.of(dom0.images),
                QmpTimeouts.defaults(), Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(20), 2, false, 0, CreateLimits.defaults(), Optional.empty(), Duration.ofMinutes(1),
                QuiesceSettings.defaults(), domainView);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aSecondCreateReadsTheDomainAgainOnlyWithoutTheView(boolean domainView) throws Exception {
        try (Dom0 dom0 = new Dom0(RealXenstored.Profile.CXENSTORED)) {
            dom0.domain(DOMID);
            Settings settings = settings(dom0, domainView);
            CountingXenstore counted = new CountingXenstore(dom0.xenstored.socketPath(), Duration.ofSeconds(5));
            SnapshotService service = new SnapshotService(settings, counted::open, new QmpConnector(settings),
                    new QemuImgRunner(settings), new LibxlConfigUpdater(settings), new DomainLockRegistry());
            try {
                assertThat(service.awaitStartupReconcile(Duration.ofSeconds(30))).isTrue();
                service.create(new SnapshotRequest(DOM, "s1", "", List.of(DiskSpec.internal("xvda"))));
                counted.takeSent();

                service.create(new SnapshotRequest(DOM, "s2", "", List.of(DiskSpec.internal("xvda"))));

                List<String> sent = counted.takeSent();
                if (domainView) {
                    assertThat(sent).containsExactly("READ /local/domain/7/vm", "READ /local/domain/7/vm");
                    assertThat(counted.stillOpen()).as("the view's connection").isEqualTo(1);
                } else {
                    assertThat(sent).contains("READ /local/domain/7/name", "DIRECTORY /local/domain/7/device/vbd");
                    assertThat(counted.stillOpen()).isZero();
                }
            } finally {
                service.deactivate();
            }
            assertThat(counted.stillOpen()).as("closed with the component").isZero();
        }
    }
}
