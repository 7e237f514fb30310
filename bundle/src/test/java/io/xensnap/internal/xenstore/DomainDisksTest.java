package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.Devid;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenHost;
import io.xensnap.harness.XenHost.Backend;
import io.xensnap.harness.XenHost.Disk;
import io.xensnap.harness.XenHost.Format;
import io.xensnap.harness.XenstoreCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Disks listed from a dom0 laid out as libxl does it (the harness's XenHost, written with the xenstore CLI). */
// The XenHost in try-with-resources is the layout the test reads; closing it is all the body needs of it.
@SuppressWarnings("try")
class DomainDisksTest {

    private static final String UUID = "6f1c2a3b-4d5e-4f60-8172-8394a5b6c7d8";

    private static XenHost host(RealXenstored xs) {
        return XenHost.builder(xs).domid(7).name("web-1").uuid(UUID)
                .disk("xvda", Backend.QDISK, Format.QCOW2, Path.of("/var/lib/xen/images/web-1.qcow2"))
                .disk("xvdb", Backend.QDISK, Format.RAW, Path.of("/var/lib/xen/images/web-1-data.img"))
                .disk(new Disk("xvdc", Backend.PHY, Format.RAW, Path.of("/dev/vg0/web-1-logs"), false))
                .build();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void listsTheDisksOfALibxlLayout(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "disks", Duration.ofSeconds(5))) {
            List<DomainDisk> disks = new DomainDisks(client).disks(7);

            assertThat(disks).containsExactly(
                    new DomainDisk(7, Devid.XVDA, "xvda", BackendKind.QDISK, 0, "qcow2:/var/lib/xen/images/web-1.qcow2",
                            LibxlFormat.QCOW2, "/var/lib/xen/images/web-1.qcow2", true, false),
                    new DomainDisk(7, Devid.XVDB, "xvdb", BackendKind.QDISK, 0,
                            "aio:/var/lib/xen/images/web-1-data.img",
                            LibxlFormat.RAW, "/var/lib/xen/images/web-1-data.img", true, false),
                    new DomainDisk(7, Devid.XVDC, "xvdc", BackendKind.VBD, 0, "/dev/vg0/web-1-logs",
                            LibxlFormat.RAW, "/dev/vg0/web-1-logs", false, false));
            // The paths the records compute are the ones libxl wrote (checked with the harness's own formulas).
            for (Disk d : host.domain(7).disks()) {
                DomainDisk listed = disks.stream().filter(x -> x.vdev().equals(d.vdev())).findFirst().orElseThrow();
                assertThat(listed.devid()).isEqualTo(d.devid());
                assertThat(listed.frontendPath()).isEqualTo(XenHost.frontendPath(7, d));
                assertThat(listed.backendPath()).isEqualTo(XenHost.backendPath(7, d));
                assertThat(listed.libxlPath()).isEqualTo(XenHost.libxlDevicePath(7, d));
                assertThat(listed.params()).isEqualTo(d.params());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void readsTheDomainNameAndUuid(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "disks", Duration.ofSeconds(5))) {
            assertThat(new DomainDisks(client).domain(7)).isEqualTo(new XenDomain(7, "web-1", UUID));
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aMissingDomainIsEnoentAndADomainWithoutDisksHasNone(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p);
             XenHost host = XenHost.builder(xs).domid(3).build();
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "disks", Duration.ofSeconds(5))) {
            DomainDisks reader = new DomainDisks(client);
            assertThat(reader.disks(3)).isEmpty();
            assertThatThrownBy(() -> reader.disks(99)).isInstanceOfSatisfying(XenstoreException.class,
                    e -> assertThat(e.errno()).isEqualTo("ENOENT"));
            assertThatThrownBy(() -> reader.domain(99)).isInstanceOfSatisfying(XenstoreException.class,
                    e -> assertThat(e.errno()).isEqualTo("ENOENT"));
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aBackendKindOtherThanVbdOrQdiskIsRefusedByName(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "disks", Duration.ofSeconds(5))) {
            new XenstoreCli(xs.socketPath()).write("/local/domain/7/device/vbd/" + Devid.of("xvdd") + "/backend",
                    "/local/domain/0/backend/vbd3/7/" + Devid.of("xvdd"));
            assertThatThrownBy(() -> new DomainDisks(client).disks(7))
                    .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("ENOTSUP"))
                    .hasMessageContaining("vbd3");
        }
    }
}
