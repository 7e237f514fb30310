package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The three harness pieces together: a dom0 whose running qdisk domain is a real Xen-like QEMU. */
class DomZeroTest {

    @ParameterizedTest
    @EnumSource(RealXenstored.Profile.class)
    void aRunningQdiskDomainIsReachableWhereLibxlWouldLookForIt(RealXenstored.Profile profile) throws Exception {
        int domid = 7;
        try (RealXenstored xs = RealXenstored.start(profile);
             XenHost host = XenHost.create(xs.socketPath());
             RealQemu qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                     .formats(RealQemu.Format.QCOW2, RealQemu.Format.QCOW2, RealQemu.Format.RAW)
                     .directory(host.root().resolve("var/lib/xen/images"))
                     .libxlQmpSocket(host.root(), domid)
                     .withData(0x41)
                     .start()) {
            List<XenHost.Disk> disks = new ArrayList<>();
            for (RealQemu.Disk d : qemu.disks()) {
                disks.add(XenHost.Disk.of(d.id(), XenHost.Backend.QDISK,
                        d.format() == RealQemu.Format.RAW ? XenHost.Format.RAW : XenHost.Format.QCOW2, d.image()));
            }
            host.addDomain(new XenHost.Domain(domid, "demo", "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13", disks));

            // what libxl and xensnap read: the QMP socket at its libxl path, the backend params, the userdata JSON
            assertThat(qemu.qmpSocket()).isEqualTo(host.qmpSocketPath(domid));
            String blocks = RawQmp.execute(host.qmpSocketPath(domid), Duration.ofSeconds(5),
                    "{\"execute\":\"query-block\"}");
            XenstoreCli cli = host.cli();
            for (RealQemu.Disk d : qemu.disks()) {
                assertThat(blocks).contains("\"node-name\": \"" + d.nodeName() + "\"")
                        .contains("\"file\": \"" + d.image() + "\"");
                String params = cli.read(XenHost.backendPath(domid, disks.get(qemu.disks().indexOf(d))) + "/params");
                assertThat(params).isEqualTo((d.format() == RealQemu.Format.RAW ? "aio:" : "qcow2:") + d.image());
                assertThat(RealQemu.hasPattern(d.image(), d.format(), d.pattern().getAsInt())).isTrue();
            }
            String json = new String(Files.readAllBytes(host.userdataPath(domid)), StandardCharsets.UTF_8);
            assertThat(json).endsWith("}\n\0").contains("\"name\": \"demo\"")
                    .contains("\"pdev_path\": \"" + qemu.disk(2).image() + "\"").contains("\"format\": \"raw\"");
            assertThat(host.userdataPath(domid).getFileName().toString())
                    .isEqualTo("userdata-d.7.6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13.libxl-json");
            assertThat(Path.of(host.root().toString(), "var/run/xen/qmp-libxl-7")).isEqualTo(qemu.qmpSocket());
        }
    }
}
