package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenHost.Backend;
import io.xensnap.harness.XenHost.Disk;
import io.xensnap.harness.XenHost.Format;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class XenHostTest {

    private static final String UUID = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";

    /** A domain config written by libxenlight 4.17's own JSON generator (docs/xen-host.md#sample-config). */
    private static final String APPENDIX_SAMPLE = """
            {
                "c_info": {
                    "type": "pvh",
                    "name": "testvm",
                    "uuid": "2b5a4c1e-1111-4222-8333-944455556666"
                },
                "b_info": {
                    "max_memkb": 524288,
                    "target_memkb": 524288,
                    "sched_params": {

                    },
                    "kernel": "/boot/vmlinuz",
                    "type.pvh": {

                    },
                    "arch_arm": {

                    },
                    "arch_x86": {

                    }
                },
                "disks": [
                    {
                        "pdev_path": "/dev/vg0/testvm-disk",
                        "vdev": "xvda",
                        "backend": "phy",
                        "format": "raw",
                        "script": "block",
                        "readwrite": 1
                    },
                    {
                        "pdev_path": "/var/lib/xen/images/data.qcow2",
                        "vdev": "xvdb",
                        "backend": "qdisk",
                        "format": "qcow2"
                    }
                ]
            }
            """;

    @ParameterizedTest
    @EnumSource(Profile.class)
    void laysOutDomainAndDisksAsLibxlDoes(Profile profile) {
        try (RealXenstored xs = RealXenstored.start(profile);
             XenHost host = XenHost.builder(xs).domid(5).name("vm5").uuid(UUID)
                     .disk("xvda", Backend.QDISK, Format.QCOW2, Path.of("/images/vm5-a.qcow2"))
                     .disk("xvdb", Backend.QDISK, Format.RAW, Path.of("/images/vm5-b.img"))
                     .disk(new Disk("xvdc", Backend.PHY, Format.RAW, Path.of("/dev/vg0/vm5-c"), false))
                     .build()) {
            XenstoreCli cli = new XenstoreCli(xs.socketPath());
            String xvdaBackend = "/local/domain/0/backend/qdisk/5/" + Devid.XVDA;
            String xvdbBackend = "/local/domain/0/backend/qdisk/5/" + Devid.XVDB;
            String xvdcBackend = "/local/domain/0/backend/vbd/5/" + Devid.XVDC;
            // oxenstored lists children sorted, cxenstored in creation order: compare the sets of lines.
            assertThat(lines(cli.lsFullWithPerms("/local/domain/5"))).containsExactlyInAnyOrder(
                    "/local/domain/5/vm = \"/vm/" + UUID + "\"   (n0,r5)",
                    "/local/domain/5/name = \"vm5\"   (n0,r5)",
                    "/local/domain/5/domid = \"5\"   (n0,r5)",
                    "/local/domain/5/device = \"\"   (n0,r5)",
                    "/local/domain/5/device/vbd = \"\"   (n0,r5)",
                    frontendLine(Devid.XVDA, "", ""),
                    frontendLine(Devid.XVDA, "backend", xvdaBackend),
                    frontendLine(Devid.XVDA, "backend-id", "0"),
                    frontendLine(Devid.XVDA, "state", "1"),
                    frontendLine(Devid.XVDA, "virtual-device", Integer.toString(Devid.XVDA)),
                    frontendLine(Devid.XVDA, "device-type", "disk"),
                    frontendLine(Devid.XVDA, "trusted", "1"),
                    frontendLine(Devid.XVDB, "", ""),
                    frontendLine(Devid.XVDB, "backend", xvdbBackend),
                    frontendLine(Devid.XVDB, "backend-id", "0"),
                    frontendLine(Devid.XVDB, "state", "1"),
                    frontendLine(Devid.XVDB, "virtual-device", Integer.toString(Devid.XVDB)),
                    frontendLine(Devid.XVDB, "device-type", "disk"),
                    frontendLine(Devid.XVDB, "trusted", "1"),
                    frontendLine(Devid.XVDC, "", ""),
                    frontendLine(Devid.XVDC, "backend", xvdcBackend),
                    frontendLine(Devid.XVDC, "backend-id", "0"),
                    frontendLine(Devid.XVDC, "state", "1"),
                    frontendLine(Devid.XVDC, "virtual-device", Integer.toString(Devid.XVDC)),
                    frontendLine(Devid.XVDC, "device-type", "disk"),
                    frontendLine(Devid.XVDC, "trusted", "1"));

            assertThat(lines(cli.lsFullWithPerms(xvdaBackend))).containsExactlyInAnyOrder(
                    backendLine("qdisk", Devid.XVDA, "frontend", "/local/domain/5/device/vbd/" + Devid.XVDA),
                    backendLine("qdisk", Devid.XVDA, "params", "qcow2:/images/vm5-a.qcow2"),
                    backendLine("qdisk", Devid.XVDA, "frontend-id", "5"),
                    backendLine("qdisk", Devid.XVDA, "online", "1"),
                    backendLine("qdisk", Devid.XVDA, "removable", "0"),
                    backendLine("qdisk", Devid.XVDA, "bootable", "1"),
                    backendLine("qdisk", Devid.XVDA, "state", "1"),
                    backendLine("qdisk", Devid.XVDA, "dev", "xvda"),
                    backendLine("qdisk", Devid.XVDA, "type", "qdisk"),
                    backendLine("qdisk", Devid.XVDA, "mode", "w"),
                    backendLine("qdisk", Devid.XVDA, "device-type", "disk"),
                    backendLine("qdisk", Devid.XVDA, "discard-enable", "1"),
                    backendLine("qdisk", Devid.XVDA, "specification", "xen"));
            assertThat(cli.read(xvdbBackend + "/params")).isEqualTo("aio:/images/vm5-b.img");
            assertThat(lines(cli.lsFullWithPerms(xvdcBackend))).containsExactlyInAnyOrder(
                    backendLine("vbd", Devid.XVDC, "frontend", "/local/domain/5/device/vbd/" + Devid.XVDC),
                    backendLine("vbd", Devid.XVDC, "params", "/dev/vg0/vm5-c"),
                    backendLine("vbd", Devid.XVDC, "script", "/etc/xen/scripts/block"),
                    backendLine("vbd", Devid.XVDC, "frontend-id", "5"),
                    backendLine("vbd", Devid.XVDC, "online", "1"),
                    backendLine("vbd", Devid.XVDC, "removable", "0"),
                    backendLine("vbd", Devid.XVDC, "bootable", "1"),
                    backendLine("vbd", Devid.XVDC, "state", "1"),
                    backendLine("vbd", Devid.XVDC, "dev", "xvdc"),
                    backendLine("vbd", Devid.XVDC, "type", "phy"),
                    backendLine("vbd", Devid.XVDC, "mode", "r"),
                    backendLine("vbd", Devid.XVDC, "device-type", "disk"),
                    backendLine("vbd", Devid.XVDC, "discard-enable", "0"),
                    backendLine("vbd", Devid.XVDC, "specification", "xen"));
            assertThat(lines(cli.lsFullWithPerms("/local/domain/0/backend/qdisk"))).contains(
                    "/local/domain/0/backend/qdisk/5 = \"\"   (n0)",
                    xvdaBackend + " = \"\"   (n0,r5)",
                    xvdbBackend + " = \"\"   (n0,r5)");

            // The libxl copy: frontend, backend and every backend entry, owned by dom0 alone.
            assertThat(lines(cli.lsFullWithPerms("/libxl/5/device/vbd/" + Devid.XVDA))).containsExactlyInAnyOrder(
                    libxlLine(Devid.XVDA, "frontend", "/local/domain/5/device/vbd/" + Devid.XVDA),
                    libxlLine(Devid.XVDA, "backend", xvdaBackend),
                    libxlLine(Devid.XVDA, "params", "qcow2:/images/vm5-a.qcow2"),
                    libxlLine(Devid.XVDA, "frontend-id", "5"),
                    libxlLine(Devid.XVDA, "online", "1"),
                    libxlLine(Devid.XVDA, "removable", "0"),
                    libxlLine(Devid.XVDA, "bootable", "1"),
                    libxlLine(Devid.XVDA, "state", "1"),
                    libxlLine(Devid.XVDA, "dev", "xvda"),
                    libxlLine(Devid.XVDA, "type", "qdisk"),
                    libxlLine(Devid.XVDA, "mode", "w"),
                    libxlLine(Devid.XVDA, "device-type", "disk"),
                    libxlLine(Devid.XVDA, "discard-enable", "1"),
                    libxlLine(Devid.XVDA, "specification", "xen"));
            assertThat(cli.read("/libxl/5/type")).isEqualTo("pvh");

            assertThat(lines(cli.lsFullWithPerms("/vm/" + UUID))).containsExactlyInAnyOrder(
                    "/vm/" + UUID + "/uuid = \"" + UUID + "\"   (n0,r5)",
                    "/vm/" + UUID + "/name = \"vm5\"   (n0,r5)");
            assertThat(cli.read("/local/domain/0/name")).isEqualTo("Domain-0");
        }
    }

    /** @return a line of the domain's frontend directory of disk {@code devid}; the directory itself for key "" */
    private static String frontendLine(int devid, String key, String value) {
        return "/local/domain/5/device/vbd/" + devid + (key.isEmpty() ? "" : "/" + key) + " = \"" + value
                + "\"   (n5,r0)";
    }

    private static String backendLine(String kind, int devid, String key, String value) {
        return "/local/domain/0/backend/" + kind + "/5/" + devid + "/" + key + " = \"" + value + "\"   (n0,r5)";
    }

    private static String libxlLine(int devid, String key, String value) {
        return "/libxl/5/device/vbd/" + devid + "/" + key + " = \"" + value + "\"   (n0)";
    }

    private static List<String> lines(String text) {
        return Arrays.asList(text.split("\n"));
    }

    @Test
    void writesTheUserdataJsonExactlyAsLibxlDoesWithItsTrailingNul() throws IOException {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED);
             XenHost host = XenHost.builder(xs).domid(1).name("testvm").uuid("2b5a4c1e-1111-4222-8333-944455556666")
                     .disk(Disk.of("xvda", Backend.PHY, Format.RAW, Path.of("/dev/vg0/testvm-disk")))
                     .disk(new Disk("xvdb", Backend.QDISK, Format.QCOW2, Path.of("/var/lib/xen/images/data.qcow2"),
                             false))
                     .build()) {
            Path json = host.userdataPath(1);
            assertThat(json).isEqualTo(host.root().resolve(
                    "var/lib/xen/userdata-d.1.2b5a4c1e-1111-4222-8333-944455556666.libxl-json"));
            assertThat(Files.readAllBytes(json)).isEqualTo((APPENDIX_SAMPLE + "\0").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void reservesTheQmpSocketPathWhereLibxlPutsIt() {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED);
             XenHost host = XenHost.builder(xs).domid(9).build()) {
            assertThat(host.qmpSocketPath(9)).isEqualTo(host.root().resolve("var/run/xen/qmp-libxl-9"));
            assertThat(host.qmpSocketPath(9).getParent()).isDirectory();
            assertThat(host.qmpSocketPath(9).toString().length()).isLessThan(108);
            assertThat(host.userdataLockPath(9).getFileName().toString())
                    .isEqualTo("userdata-l.9.2b5a4c1e-1111-4222-8333-944455556666.domain-userdata-lock");
        }
    }

    @Test
    void devidFollowsLibxlDiskDevNumber() {
        Path img = Path.of("/i");
        assertThat(Disk.of("xvda", Backend.QDISK, Format.RAW, img).devid()).isEqualTo(51712);
        assertThat(Disk.of("xvdb", Backend.QDISK, Format.RAW, img).devid()).isEqualTo(51728);
        assertThat(List.of(Devid.XVDA, Devid.XVDB, Devid.XVDC)).containsExactly(51712, 51728, 51744);
        assertThat(Disk.of("xvdp", Backend.QDISK, Format.RAW, img).devid()).isEqualTo((202 << 8) | (15 << 4));
        assertThat(Disk.of("xvdq", Backend.QDISK, Format.RAW, img).devid()).isEqualTo((1 << 28) | (16 << 8));
        assertThat(Disk.of("xvdaa", Backend.QDISK, Format.RAW, img).devid()).isEqualTo((1 << 28) | (26 << 8));
        assertThat(Disk.of("hda", Backend.QDISK, Format.RAW, img).devid()).isEqualTo(768);
        assertThat(Disk.of("hdc", Backend.QDISK, Format.RAW, img).devid()).isEqualTo(22 << 8);
        assertThat(Disk.of("sda", Backend.QDISK, Format.RAW, img).devid()).isEqualTo(2048);
    }

    @Test
    void phyBackendRefusesQcow2AsLibxlDoes() {
        assertThatThrownBy(() -> Disk.of("xvda", Backend.PHY, Format.QCOW2, Path.of("/i.qcow2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raw");
    }

    @Test
    void closeDeletesTheRoot() {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED)) {
            XenHost host = XenHost.builder(xs).build();
            Path root = host.root();
            host.close();
            assertThat(root).doesNotExist();
        }
    }
}
