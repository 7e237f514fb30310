package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenHost.Backend;
import io.xensnap.harness.XenHost.Disk;
import io.xensnap.harness.XenHost.Format;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness's userdata JSON is something libxenlight 4.17 itself writes; the oracle reports what libxl refuses. */
class LibxlOracleTest {

    @TempDir
    Path dir;

    @Test
    void xenHostsConfigWithEveryKindOfDiskIsExactlyWhatLibxlWritesBack() throws Exception {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED);
             XenHost host = XenHost.builder(xs).domid(7).name("oracle \"vm\" ü").uuid("2b5a4c1e-1111-4222-8333-944455556666")
                     .disk(Disk.of("xvda", Backend.PHY, Format.RAW, Path.of("/dev/vg0/testvm-disk")))
                     .disk(Disk.of("xvdb", Backend.QDISK, Format.QCOW2, Path.of("/var/lib/xen/images/data b.qcow2")))
                     .disk(new Disk("xvdc", Backend.QDISK, Format.RAW, Path.of("/srv/ro.img"), false))
                     .disk(Disk.emptyCdrom("hdc"))
                     .build()) {
            byte[] written = Files.readAllBytes(host.userdataPath(7));

            assertThat(new String(LibxlOracle.roundTrip(host.userdataPath(7)), StandardCharsets.UTF_8))
                    .isEqualTo(new String(written, StandardCharsets.UTF_8));
            assertThat(LibxlOracle.roundTrip(host.userdataPath(7))).isEqualTo(written).endsWith(0);
        }
    }

    @Test
    void libxlsOwnDiskChangeSetsThePathAndFormatAndOmitsAMissingPath() throws Exception {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED);
             XenHost host = XenHost.builder(xs).domid(3).uuid("2b5a4c1e-1111-4222-8333-944455556666")
                     .disk(Disk.of("xvda", Backend.QDISK, Format.RAW, Path.of("/img/a.raw")))
                     .build()) {
            String before = new String(Files.readAllBytes(host.userdataPath(3)), StandardCharsets.UTF_8);

            String changed = new String(LibxlOracle.setDisk(host.userdataPath(3), "xvda", "/img/a.snap.qcow2", "qcow2"),
                    StandardCharsets.UTF_8);
            String emptied = new String(LibxlOracle.setDisk(host.userdataPath(3), "xvda", null, "empty"),
                    StandardCharsets.UTF_8);

            assertThat(changed).isEqualTo(before.replace("\"/img/a.raw\"", "\"/img/a.snap.qcow2\"")
                    .replace("\"format\": \"raw\"", "\"format\": \"qcow2\""));
            assertThat(emptied).isEqualTo(before.replace("            \"pdev_path\": \"/img/a.raw\",\n", "")
                    .replace("\"format\": \"raw\"", "\"format\": \"empty\""));
        }
    }

    @Test
    void aFileLibxlRefusesFailsWithLibxlsOwnError() throws Exception {
        // xl's spelling of the action, not libxl's enum name coredump_destroy: libxl cannot load this
        Path file = dir.resolve("userdata-d.1.2b5a4c1e-1111-4222-8333-944455556666.libxl-json");
        Files.writeString(file, "{\n    \"on_crash\": \"coredump-destroy\"\n}\n\0");

        assertThatThrownBy(() -> LibxlOracle.roundTrip(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("libxl_domain_config_from_json refused");
    }

    @Test
    void anUnknownVdevIsAnError() throws Exception {
        Path file = dir.resolve("config.libxl-json");
        Files.writeString(file, "{\n    \"disks\": [\n        {\n            \"vdev\": \"xvda\"\n        }\n    ]\n}\n\0");

        assertThatThrownBy(() -> LibxlOracle.setDisk(file, "xvdz", "/x", "raw"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no disk with vdev 'xvdz'");
    }
}
