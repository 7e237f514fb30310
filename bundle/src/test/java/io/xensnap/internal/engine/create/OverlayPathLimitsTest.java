package io.xensnap.internal.engine.create;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.Faults;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.surface.UserInput;

/**
 * Overlay paths some peer would refuse are refused before anything changes, and the longest path validation accepts
 * works on every peer: QEMU switches to it, both xenstore daemons store it, qemu-img takes it as a backing file.
 */
class OverlayPathLimitsTest {

    private static final DomainRef DOM = DomainRef.running(7);

    private static SnapshotRequest external(String name, Path overlay) {
        return new SnapshotRequest(DOM, name, "", List.of(DiskSpec.external("xvdb", overlay)));
    }

    private static void refused(SnapshotEngine engine, SnapshotRequest r, String why) {
        assertThatThrownBy(() -> engine.create(r)).isInstanceOfSatisfying(SnapshotException.class, e -> {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(SnapshotError.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(why);
        });
    }

    @ParameterizedTest
    @EnumSource(RealXenstored.Profile.class)
    void pathsAPeerWouldRefuseAreRefusedBeforeAnythingChanges(RealXenstored.Profile profile) throws Exception {
        try (Dom0 dom0 = new Dom0(profile)) {
            dom0.domain(7);
            SnapshotEngine engine = dom0.engine();
            Path vm7 = dom0.images.resolve("vm7");
            // the reproduction: 8 nested directories of 250 characters
            Path deep = vm7;
            for (int i = 0; i < 8; i++) {
                deep = deep.resolve(String.valueOf((char) ('a' + i)).repeat(250));
            }
            Files.createDirectories(deep);
            Files.writeString(vm7.resolve("O.qcow2.xensnap-old-taken.qcow2.xensnap-old"), "someone's");
            Files.writeString(vm7.resolve("P.qcow2.xensnap-old"), "someone's");
            String before = dom0.fingerprint();

            refused(engine, external("longpath", deep.resolve("o.qcow2")), "qcow2 stores backing file names of at most 1023");
            refused(engine, external("longname", vm7.resolve("n".repeat(294) + ".qcow2")), "NAME_MAX");
            // 126 characters, 246 bytes: a NAME_MAX counted in characters would pass it, and so would NAME_MAX alone
            refused(engine, external("utf8", vm7.resolve("é".repeat(120) + ".qcow2")), "at most 243");
            refused(engine, external("reserved", vm7.resolve("O.qcow2.xensnap-old")), "reserves");
            refused(engine, external("aside-taken", vm7.resolve("P.qcow2")), "P.qcow2.xensnap-old exists");
            assertThat(Faults.code(() -> engine.create(UserInput.valid(() -> SnapshotRequest.allDisks(DOM,
                    "xensnap-undo-1", "")))))
                    .isEqualTo(SnapshotError.INVALID_ARGUMENT);

            assertThat(dom0.fingerprint()).isEqualTo(before);
        }
    }

    @ParameterizedTest
    @EnumSource(RealXenstored.Profile.class)
    void theLongestAcceptedPathWorksOnEveryPeer(RealXenstored.Profile profile) throws Exception {
        try (Dom0 dom0 = new Dom0(profile)) {
            dom0.domain(7);
            SnapshotEngine engine = dom0.engine();
            Path dir = dom0.images.resolve("vm7");
            for (int room; (room = OverlayPathLimits.BACKING_NAME_MAX - dir.toString().length() - 1)
                    > OverlayPathLimits.FILE_NAME_MAX; ) {
                dir = dir.resolve("d".repeat(Math.min(200, room - 101)));
            }
            Files.createDirectories(dir);
            int fileName = OverlayPathLimits.BACKING_NAME_MAX - dir.toString().length() - 1;
            Path longest = dir.resolve("o".repeat(fileName - ".qcow2".length()) + ".qcow2");
            assertThat(longest.toString().getBytes(StandardCharsets.UTF_8)).hasSize(1023);
            refused(engine, external("one-more", Path.of(dir + "x").resolve(longest.getFileName())), "1023");

            engine.create(external("longest", longest));

            assertThat(dom0.rootFile(7, "xvdb")).as("QEMU switched").isEqualTo(longest.toString());
            assertThat(dom0.backendParams(7, "xvdb")).isEqualTo("qcow2:" + longest);
            assertThat(dom0.xenstoreRead("/libxl/7/device/vbd/51728/params")).isEqualTo("qcow2:" + longest);
            // and it can be the backing file of the next overlay
            Path next = dom0.images.resolve("vm7/next.qcow2");
            engine.create(external("next", next));
            assertThat(Dom0.chain(next)).startsWith(next.toString(), longest.toString());
        }
    }
}
