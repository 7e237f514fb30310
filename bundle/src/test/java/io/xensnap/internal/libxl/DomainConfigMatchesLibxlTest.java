package io.xensnap.internal.libxl;

import io.xensnap.harness.LibxlOracle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libxenlight 4.17 itself (harness LibxlOracle) is the reference for the userdata JSON: every fixture is a file libxl
 * writes back unchanged, and xensnap's disk change writes the very bytes libxl's own disk change writes.
 */
class DomainConfigMatchesLibxlTest {

    private static final LibxlDomain DOMAIN = new LibxlDomain(12, UUID.fromString("7f3e2a10-5b4c-4d8e-9a1b-0c2d3e4f5a6b"));

    @TempDir
    Path xenLib;

    @Test
    void everyUserdataFixtureIsExactlyWhatLibxlWritesBack() throws Exception {
        List<Path> fixtures = userdataFixtures();
        assertThat(fixtures.stream().map(p -> p.getFileName().toString()))
                .contains(TestFiles.APPENDIX, TestFiles.LARGER);

        for (Path fixture : fixtures) {
            byte[] original = Files.readAllBytes(fixture);

            byte[] libxl = LibxlOracle.roundTrip(fixture);

            assertThat(TestFiles.text(libxl)).as("libxl's round trip of %s", fixture.getFileName())
                    .isEqualTo(TestFiles.text(original));
            assertThat(libxl).isEqualTo(original);
        }
    }

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource(delimiter = '|', value = {
            "appendix-sample.libxl-json | xvda | /var/lib/xen/images/testvm.snap-1.qcow2 | QCOW2",
            "appendix-sample.libxl-json | xvdb | /var/lib/xen/images/data.snap.raw | RAW",
            "larger-config.libxl-json | xvda | /dev/vg0/web-01-root-snap | RAW",
            "larger-config.libxl-json | xvdb | '/snap/web-01 data \"1\" (ümlaut)\t.raw' | RAW",
            "larger-config.libxl-json | xvdb | /var/lib/xen/images/web-01.qcow2 | UNKNOWN",
            "larger-config.libxl-json | xvdc | /srv/images/legacy.snap.qcow2 | QCOW2",
            "larger-config.libxl-json | hdc | /isos/debian.iso | RAW",
    })
    void xensnapsDiskChangeWritesTheBytesLibxlsOwnDiskChangeWrites(String fixture, String vdev, String path,
                                                                   LibxlDiskFormat format) throws Exception {
        Path original = xenLib.resolve("original.json");
        Files.write(original, TestFiles.resource(fixture));
        Path file = xenLib.resolve("userdata-d." + DOMAIN.domid() + "." + DOMAIN.uuid() + ".libxl-json");
        Files.write(file, TestFiles.resource(fixture));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        new DomainConfigStore(xenLib, Clock.systemUTC(), Duration.ofSeconds(5)).setDisk(DOMAIN, vdev, path, format);

        byte[] xensnap = Files.readAllBytes(file);
        byte[] libxl = LibxlOracle.setDisk(original, vdev, path, format.jsonName());
        assertThat(TestFiles.text(xensnap)).isEqualTo(TestFiles.text(libxl));
        assertThat(xensnap).isEqualTo(libxl).endsWith(0);
        // and libxl loads xensnap's file and writes it back unchanged
        assertThat(LibxlOracle.roundTrip(file)).isEqualTo(xensnap);
    }

    private static List<Path> userdataFixtures() throws URISyntaxException, java.io.IOException {
        Path dir = Path.of(DomainConfigMatchesLibxlTest.class.getResource(TestFiles.APPENDIX).toURI()).getParent();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".libxl-json")).sorted().toList();
        }
    }
}
