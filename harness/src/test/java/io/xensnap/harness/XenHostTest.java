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
            // oxenstored lists children sorted, cxenstored in creation order: compare the sets of lines.
            assertThat(lines(cli.lsFullWithPerms("/local/domain/5"))).containsExactlyInAnyOrder(
                    "/local/domain/5/vm = \"/vm/" + UUID + "\"   (n0,r5)",
                    "/local/domain/5/name = \"vm5\"   (n0,r5)",
                    "/local/domain/5/domid = \"5\"   (n0,r5)",
                    "/local/domain/5/device = \"\"   (n0,r5)",
                    "/local/domain/5/device/vbd = \"\"   (n0,r5)",
                    "/local/domain/5/device/vbd/51712 = \"\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/backend = \"/local/domain/0/backend/qdisk/5/51712\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/backend-id = \"0\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/state = \"1\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/virtual-device = \"51712\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/device-type = \"disk\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51712/trusted = \"1\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728 = \"\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/backend = \"/local/domain/0/backend/qdisk/5/51728\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/backend-id = \"0\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/state = \"1\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/virtual-device = \"51728\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/device-type = \"disk\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51728/trusted = \"1\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744 = \"\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/backend = \"/local/domain/0/backend/vbd/5/51744\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/backend-id = \"0\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/state = \"1\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/virtual-device = \"51744\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/device-type = \"disk\"   (n5,r0)",
                    "/local/domain/5/device/vbd/51744/trusted = \"1\"   (n5,r0)");

            assertThat(lines(cli.lsFullWithPerms("/local/domain/0/backend/qdisk/5/51712"))).containsExactlyInAnyOrder(
                    backendLine("qdisk", 51712, "frontend", "/local/domain/5/device/vbd/51712"),
                    backendLine("qdisk", 51712, "params", "qcow2:/images/vm5-a.qcow2"),
                    backendLine("qdisk", 51712, "frontend-id", "5"),
                    backendLine("qdisk", 51712, "online", "1"),
                    backendLine("qdisk", 51712, "removable", "0"),
                    backendLine("qdisk", 51712, "bootable", "1"),
                    backendLine("qdisk", 51712, "state", "1"),
                    backendLine("qdisk", 51712, "dev", "xvda"),
                    backendLine("qdisk", 51712, "type", "qdisk"),
                    backendLine("qdisk", 51712, "mode", "w"),
                    backendLine("qdisk", 51712, "device-type", "disk"),
                    backendLine("qdisk", 51712, "discard-enable", "1"),
                    backendLine("qdisk", 51712, "specification", "xen"));
            assertThat(cli.read("/local/domain/0/backend/qdisk/5/51728/params")).isEqualTo("aio:/images/vm5-b.img");
            assertThat(lines(cli.lsFullWithPerms("/local/domain/0/backend/vbd/5/51744"))).containsExactlyInAnyOrder(
                    backendLine("vbd", 51744, "frontend", "/local/domain/5/device/vbd/51744"),
                    backendLine("vbd", 51744, "params", "/dev/vg0/vm5-c"),
                    backendLine("vbd", 51744, "script", "/etc/xen/scripts/block"),
                    backendLine("vbd", 51744, "frontend-id", "5"),
                    backendLine("vbd", 51744, "online", "1"),
                    backendLine("vbd", 51744, "removable", "0"),
                    backendLine("vbd", 51744, "bootable", "1"),
                    backendLine("vbd", 51744, "state", "1"),
                    backendLine("vbd", 51744, "dev", "xvdc"),
                    backendLine("vbd", 51744, "type", "phy"),
                    backendLine("vbd", 51744, "mode", "r"),
                    backendLine("vbd", 51744, "device-type", "disk"),
                    backendLine("vbd", 51744, "discard-enable", "0"),
                    backendLine("vbd", 51744, "specification", "xen"));
            assertThat(lines(cli.lsFullWithPerms("/local/domain/0/backend/qdisk"))).contains(
                    "/local/domain/0/backend/qdisk/5 = \"\"   (n0)",
                    "/local/domain/0/backend/qdisk/5/51712 = \"\"   (n0,r5)",
                    "/local/domain/0/backend/qdisk/5/51728 = \"\"   (n0,r5)");

            // The libxl copy: frontend, backend and every backend entry, owned by dom0 alone.
            assertThat(lines(cli.lsFullWithPerms("/libxl/5/device/vbd/51712"))).containsExactlyInAnyOrder(
                    libxlLine(51712, "frontend", "/local/domain/5/device/vbd/51712"),
                    libxlLine(51712, "backend", "/local/domain/0/backend/qdisk/5/51712"),
                    libxlLine(51712, "params", "qcow2:/images/vm5-a.qcow2"),
                    libxlLine(51712, "frontend-id", "5"),
                    libxlLine(51712, "online", "1"),
                    libxlLine(51712, "removable", "0"),
                    libxlLine(51712, "bootable", "1"),
                    libxlLine(51712, "state", "1"),
                    libxlLine(51712, "dev", "xvda"),
                    libxlLine(51712, "type", "qdisk"),
                    libxlLine(51712, "mode", "w"),
                    libxlLine(51712, "device-type", "disk"),
                    libxlLine(51712, "discard-enable", "1"),
                    libxlLine(51712, "specification", "xen"));
            assertThat(cli.read("/libxl/5/type")).isEqualTo("pvh");

            assertThat(lines(cli.lsFullWithPerms("/vm/" + UUID))).containsExactlyInAnyOrder(
                    "/vm/" + UUID + "/uuid = \"" + UUID + "\"   (n0,r5)",
                    "/vm/" + UUID + "/name = \"vm5\"   (n0,r5)");
            assertThat(cli.read("/local/domain/0/name")).isEqualTo("Domain-0");
        }
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
