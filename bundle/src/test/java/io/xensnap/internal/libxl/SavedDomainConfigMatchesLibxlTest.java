package io.xensnap.internal.libxl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.xensnap.harness.LibxlOracle;

/**
 * The config a snapshot with memory writes into the copy of a save image, for a disk blkback served (phy) that comes
 * back on a qcow2 overlay: libxenlight itself (harness LibxlOracle) switching the disk to qdisk writes the very same
 * bytes, and reads them back unchanged.
 */
class SavedDomainConfigMatchesLibxlTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} -> qdisk {2}")
    @CsvSource(delimiter = '|', value = {
            "appendix-sample.libxl-json | xvda | /var/lib/xen/images/testvm-disk.m1.qcow2",
            "larger-config.libxl-json | xvda | '/srv/snap/web-01 root \"m1\" (ümlaut).qcow2'",
    })
    void aPhyDiskSwitchedToQdiskIsWhatLibxlWrites(String fixture, String vdev, String overlay) throws Exception {
        Path original = Files.write(dir.resolve("original.json"), TestFiles.resource(fixture));
        assertThat(SavedDomainConfig.shape(Files.readAllBytes(original), fixture).type()).isPresent();
        assertThat(TestFiles.text(Files.readAllBytes(original))).contains("\"phy\"");

        byte[] xensnap = SavedDomainConfig.withDisks(Files.readAllBytes(original), List.of(),
                List.of(new LibxlDisk(vdev, overlay, LibxlDiskFormat.QCOW2)), fixture);

        byte[] file = Arrays.copyOf(xensnap, xensnap.length + 1);
        byte[] libxl = LibxlOracle.setDisk(original, vdev, overlay, "qcow2", "qdisk");
        assertThat(TestFiles.text(file)).isEqualTo(TestFiles.text(libxl));
        assertThat(file).isEqualTo(libxl);
        assertThat(LibxlOracle.roundTrip(Files.write(dir.resolve("rewritten.json"), file))).isEqualTo(file);
        LibxlDisk now = SavedDomainConfig.disk(xensnap, vdev, fixture);
        assertThat(now.pdevPath()).contains(overlay);
        assertThat(now.format()).isEqualTo(LibxlDiskFormat.QCOW2);
    }
}
