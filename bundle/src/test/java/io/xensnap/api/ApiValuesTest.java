package io.xensnap.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.xensnap.harness.Devid;

class ApiValuesTest {

    private static final String UUID = "2b5a4c1e-1111-4222-8333-944455556666";

    @ParameterizedTest
    @ValueSource(strings = {"a", "s1", "before-upgrade", "v1.2_rc", "0day", "_x", "A234567890123456789012345678901234567890123456789012345678901234"})
    void acceptsSnapshotNamesWithinTheRules(String name) {
        assertThat(Names.snapshot(name)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".hidden", "-opt", "123", "a b", "a/b", "../x", "a,b", "a\nb", "a\0b", "ä",
            "A2345678901234567890123456789012345678901234567890123456789012345"})
    void refusesSnapshotNamesBreakingARule(String name) {
        assertThatIllegalArgumentException().isThrownBy(() -> Names.snapshot(name));
    }

    @Test
    void messagesNeverEchoControlCharactersOrHugeInput() {
        assertThatIllegalArgumentException().isThrownBy(() -> Names.snapshot("a\nb"))
                .withMessageContaining("a\\x0ab");
        assertThatIllegalArgumentException().isThrownBy(() -> Names.snapshot("x".repeat(10_000)))
                .withMessageContaining("(10000 chars)")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(300));
    }

    @Test
    void messagesEscapeAsTheSurfacesDo() {
        // one escaping for the API's messages and for what the console and the MBean show: by code point, and the
        // first 80 characters of the input are shown however long their escapes are
        assertThat(Names.printable(String.valueOf((char) 1).repeat(100)))
                .isEqualTo("\\x01".repeat(80) + "…(100 chars)");
        assertThat(Names.escaped("a\u202eb" + new String(Character.toChars(0xE0001))))
                .isEqualTo("a\\u202eb\\U000e0001");
        assertThat(Names.escaped(null)).isEmpty();
        assertThat(Names.printable(null)).isEqualTo("null");
    }

    @Test
    void vdevsAndUuidsFollowLibxl() {
        assertThat(Names.vdev("xvda")).isEqualTo("xvda");
        assertThat(Names.vdev("hdc")).isEqualTo("hdc");
        String xvdaNumber = Integer.toString(Devid.XVDA);  // a device number is a name libxl accepts too
        assertThat(Names.vdev(xvdaNumber)).isEqualTo(xvdaNumber);
        assertThatIllegalArgumentException().isThrownBy(() -> Names.vdev("vda"));
        assertThatIllegalArgumentException().isThrownBy(() -> Names.vdev("xvda/../x"));
        assertThatIllegalArgumentException().isThrownBy(() -> Names.uuid(UUID.toUpperCase()));
        assertThat(Names.uuid(UUID)).isEqualTo(UUID);
    }

    @Test
    void pathsMustBeAbsoluteAndNormalized() {
        assertThatIllegalArgumentException().isThrownBy(() -> DiskSpec.external("xvda", Path.of("rel/ov.qcow2")));
        assertThatIllegalArgumentException().isThrownBy(() -> DiskSpec.external("xvda", Path.of("/a/../etc/ov.qcow2")));
        assertThatIllegalArgumentException().isThrownBy(() -> DiskSpec.external("xvda", Path.of("/a/./ov.qcow2")));
        assertThat(DiskSpec.external("xvda", Path.of("/a/ov.qcow2")).overlayFormat()).isEqualTo(DiskFormat.QCOW2);
        assertThat(DiskSpec.external("xvda", null).overlay()).isNull();
    }

    @Test
    void internalSnapshotsHaveNoOverlay() {
        assertThatIllegalArgumentException().isThrownBy(
                () -> new DiskSpec("xvda", SnapshotKind.INTERNAL, Path.of("/a/ov.qcow2"), null));
        assertThatIllegalArgumentException().isThrownBy(() -> new DiskSnapshot("xvda", SnapshotKind.INTERNAL,
                Path.of("/a/d.raw"), DiskFormat.RAW, null));
    }

    @Test
    void requestsRefuseADiskGivenTwice() {
        assertThatIllegalArgumentException().isThrownBy(() -> new SnapshotRequest(DomainRef.running(3), "s1", "",
                List.of(DiskSpec.internal("xvda"), DiskSpec.external("xvda", null))))
                .withMessageContaining("xvda is given twice");
    }

    @Test
    void domainRefsParseWhatPeopleType() {
        assertThat(DomainRef.parse(" 7 ")).isEqualTo(new DomainRef.Running(7));
        assertThat(DomainRef.parse(UUID)).isEqualTo(new DomainRef.ShutOff(UUID, List.of()));
        assertThatIllegalArgumentException().isThrownBy(() -> DomainRef.parse("0"));
        assertThatIllegalArgumentException().isThrownBy(() -> DomainRef.parse("40000"));
        assertThatIllegalArgumentException().isThrownBy(() -> DomainRef.parse("vm1"));
    }

    @Test
    void aTreeKnowsRootsChildrenAndRefusesDanglingParents() {
        SnapshotInfo a = info("a", null);
        SnapshotInfo b = info("b", "a");
        SnapshotInfo c = info("c", "a");
        SnapshotTree t = new SnapshotTree(UUID, "c", List.of(a, b, c));
        assertThat(t.roots()).containsExactly(a);
        assertThat(t.children("a")).containsExactly(b, c);
        assertThat(t.get("b")).contains(b);
        assertThatIllegalArgumentException().isThrownBy(() -> new SnapshotTree(UUID, null, List.of(b)))
                .withMessageContaining("unknown parent a");
        assertThatIllegalArgumentException().isThrownBy(() -> new SnapshotTree(UUID, "zz", List.of(a)));
    }

    @Test
    void codedMessagesCarryTheStableCode() {
        SnapshotException e = new SnapshotException(SnapshotError.NO_SUCH_SNAPSHOT, "domain 3 has no snapshot s9");
        assertThat(e.code()).isEqualTo(SnapshotError.NO_SUCH_SNAPSHOT);
        assertThat(e.codedMessage()).isEqualTo("[NO_SUCH_SNAPSHOT] domain 3 has no snapshot s9");
    }

    private static SnapshotInfo info(String name, String parent) {
        return new SnapshotInfo(UUID, name, "", Instant.EPOCH, parent,
                List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null)));
    }
}
