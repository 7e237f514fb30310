package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;

class UserInputTest {

    private static final String UUID = "6f1e4a52-0d3b-4c8e-9a1f-2b7c5d9e0f13";

    @Test
    void aDomidNamesARunningDomainAndAUuidAShutOffOne() throws Exception {
        assertThat(UserInput.domain(" 7 ")).isEqualTo(DomainRef.running(7));
        assertThat(UserInput.domain(UUID.toUpperCase())).isEqualTo(DomainRef.shutOff(UUID, List.of()));
    }

    @Test
    void badDomainsAreInvalidArguments() {
        for (String bad : new String[] {null, "", "  ", "0", "32752", "vm1", "-3", UUID + "x"}) {
            assertThat(invalid(() -> UserInput.domain(bad))).as("'" + bad + "'").isNotBlank();
        }
        assertThat(invalid(() -> UserInput.domain("vm1"))).contains("'vm1' is neither a domid");
    }

    @Test
    void aDomidWithLeadingZerosIsRefusedNotReadAsAnotherNumber() {
        for (String zeros : new String[] {"00001", "07", " 007 ", "00"}) {
            assertThat(invalid(() -> UserInput.domain(zeros))).as("'" + zeros + "'").contains("leading zeros");
        }
    }

    @Test
    void theDiskSpecGivesKindAndOverlayPerDisk() throws Exception {
        assertThat(UserInput.disks("")).isEmpty();
        assertThat(UserInput.disks(null)).isEmpty();
        assertThat(UserInput.disks("xvda:internal, xvdb:EXTERNAL ,xvdc:external:/img/c:1.qcow2"))
                .containsExactly(DiskSpec.internal("xvda"), DiskSpec.external("xvdb", null),
                        DiskSpec.external("xvdc", Path.of("/img/c:1.qcow2")));
    }

    @Test
    void badDiskSpecsSayWhatWasExpected() {
        assertThat(invalid(() -> UserInput.disks("xvda"))).contains("expected vdev:internal, vdev:external");
        assertThat(invalid(() -> UserInput.disks("xvda:full"))).contains("'full' is not a kind");
        assertThat(invalid(() -> UserInput.disks("xvda:internal:/x.qcow2"))).contains("has no overlay path");
        assertThat(invalid(() -> UserInput.disks("xvdb:external:rel.qcow2"))).contains("must be absolute");
        assertThat(invalid(() -> UserInput.disks("vda:internal"))).contains("invalid virtual device 'vda'");
    }

    @Test
    void aRequestChecksEveryPart() throws Exception {
        SnapshotRequest r = UserInput.request("7", "s1", "before upgrade", "xvda:internal");
        assertThat(r).isEqualTo(new SnapshotRequest(DomainRef.running(7), "s1", "before upgrade",
                List.of(DiskSpec.internal("xvda"))));
        assertThat(UserInput.request("7", "s1", null, null).disks()).isEmpty();

        assertThat(invalid(() -> UserInput.request("7", "bad name!", "", ""))).contains("invalid snapshot name");
        assertThat(invalid(() -> UserInput.request("7", "123", "", ""))).contains("all digits");
        assertThat(invalid(() -> UserInput.request("7", "s1", "", "xvda:internal,xvda:external")))
                .contains("disk xvda is given twice");
        assertThat(invalid(() -> UserInput.request("7", "s1", "d".repeat(1025), ""))).contains("1024");
    }

    @Test
    void theOneItemFormTakesEverythingAfterTheSecondColonAsThePath() throws Exception {
        assertThat(UserInput.disk("xvda:internal")).isEqualTo(DiskSpec.internal("xvda"));
        assertThat(UserInput.disk(" xvdb : EXTERNAL ")).isEqualTo(DiskSpec.external("xvdb", null));
        assertThat(UserInput.disk("xvdc:external:/srv/a:b.qcow2"))
                .isEqualTo(DiskSpec.external("xvdc", Path.of("/srv/a:b.qcow2")));
        assertThat(UserInput.disk("xvdc", "external", null, "")).isEqualTo(DiskSpec.external("xvdc", null));
        assertThat(UserInput.disk("xvdc", "external", null, "RAW").overlayFormat()).isEqualTo(DiskFormat.RAW);
    }

    @Test
    void anEmptyItemOrAnEmptyPathIsRefusedNotReadAsEveryDiskOrTheDefault() {
        for (String spec : new String[] {",,,", ",", " , ", "xvda:internal,", ",xvda:internal",
                "xvda:internal,,xvdb:internal"}) {
            assertThat(invalid(() -> UserInput.disks(spec))).as("'" + spec + "'").contains("is empty");
        }
        for (String spec : new String[] {"xvda:external:", "xvda:external:  ", "xvda:EXTERNAL:"}) {
            assertThat(invalid(() -> UserInput.disks(spec))).as("'" + spec + "'")
                    .contains("disk xvda: the overlay path is empty");
        }
        assertThat(invalid(() -> UserInput.disk("xvda", "external", "", null))).contains("overlay path is empty");
    }

    @Test
    void aDescriptionWithControlOrBidiCharactersIsRefused() {
        for (String d : new String[] {"a\u001b[2Jb", "line\nbreak", "tab\there", "evil\u202egpj.exe", "\u2066x\u2069",
                "\u200fx", "\u061cx", "x\u0085", "x\u2028y", "x\u007f"}) {
            assertThat(invalid(() -> UserInput.request("7", "s1", d, ""))).as(d).contains("description has the");
        }
        assertThat(invalid(() -> UserInput.request("7", "s1", "evil\u202etxt", ""))).contains("U+202E at position 5");
    }

    @Test
    void onlySpacesAreIgnoredAndControlCharactersReachTheValues() {
        for (String bad : new String[] {"xvda\n:internal", "xvda:internal\t", "\txvda:internal", "xvda\0:internal",
                "xvdb:external:/img/b\n.qcow2", "xvda", "xvda:", "xvda:both", ":internal", "xvda:external:/a\0b"}) {
            assertThat(invalid(() -> UserInput.disks(bad))).as(bad.replace('\0', '0')).isNotBlank();
        }
        assertThat(invalid(() -> UserInput.disk(null))).contains("missing");
        assertThat(invalid(() -> UserInput.domain("7\0"))).contains("control character");
        assertThat(invalid(() -> UserInput.domain("7\n"))).contains("control character");
    }

    @Test
    void messagesNeverEchoControlCharactersOrLongInput() {
        String message = invalid(() -> UserInput.disks("x".repeat(10_000) + "\u001b[2J:internal"));
        assertThat(message).doesNotContain("\u001b").hasSizeLessThan(300).contains("10004 chars");
        assertThat(invalid(() -> UserInput.disks("xv\u202eda:internal"))).doesNotContain("\u202e")
                .contains("xv\\u202eda");
        assertThat(invalid(() -> UserInput.domain("1".repeat(10_000)))).hasSizeLessThan(400);
    }

    @Test
    void snapshotDisksAreDescribedInTheSpecSyntax() {
        List<DiskSnapshot> disks = List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdb", SnapshotKind.EXTERNAL, Path.of("/img/b.raw"), DiskFormat.RAW,
                        Path.of("/img/b.s1.qcow2")));
        assertThat(UserInput.describe(disks)).isEqualTo("xvda:internal,xvdb:external:/img/b.s1.qcow2");
    }

    private interface Call {
        void run() throws SnapshotException;
    }

    private static String invalid(Call call) {
        SnapshotException e = catchThrowableOfType(SnapshotException.class, call::run);
        assertThat(e).as("refused").isNotNull();
        assertThat(e.code()).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        return e.getMessage();
    }
}
