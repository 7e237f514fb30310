package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;

/**
 * The directories on the way to an overlay: only root may be able to change them (checked at validation), and
 * between the check and the use a directory swapped for a link is never followed, when an overlay is made or removed.
 */
class OverlayDirectoryTest {

    private static final DomainRef DOM = DomainRef.running(7);

    private Dom0 dom0;
    private SnapshotEngine engine;
    private Path vm7;
    private Path outside;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(7);
        engine = dom0.engine();
        vm7 = dom0.images.resolve("vm7");
        outside = Files.createDirectories(dom0.host.root().resolve("outside"));
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    private static SnapshotRequest external(String name, Path overlay) {
        return new SnapshotRequest(DOM, name, "", List.of(DiskSpec.external("xvdb", overlay)));
    }

    @Test
    void aDirectoryInsideTheRootsThatSomeoneElseCanChangeIsRefusedAtValidation() throws Exception {
        Path nobodys = Files.createDirectories(vm7.resolve("nobodys"));
        Files.setAttribute(nobodys, "unix:uid", 65534);
        Path open = Files.createDirectories(vm7.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path sticky = Files.createDirectories(vm7.resolve("sticky"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Path below = Files.createDirectories(sticky.resolve("nobodys"));
        Files.setAttribute(below, "unix:uid", 65534);
        Path rootsBelowSticky = Files.createDirectories(sticky.resolve("roots"));
        String before = dom0.fingerprint();

        // overlay directory, the directory blamed, why
        List<List<Object>> cases = List.of(
                List.of(nobodys, nobodys, "is owned by uid 65534"),
                List.of(open, open, "is writable by group and others (mode 0777)"),
                List.of(sticky, sticky, "is writable by group and others (mode 1777)"),
                List.of(below, sticky, "is writable by group and others (mode 1777): they could replace what lies"
                        + " below it"));
        for (List<Object> c : cases) {
            String expected = "directory " + ((Path) c.get(1)).toRealPath() + " " + c.get(2);
            assertThatThrownBy(() -> engine.create(external("s1", ((Path) c.get(0)).resolve("o.qcow2"))))
                    .isInstanceOfSatisfying(SnapshotException.class, e -> {
                        assertThat(e.code()).isEqualTo(SnapshotError.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).contains(expected);
                    });
        }
        assertThat(dom0.fingerprint()).isEqualTo(before);

        // a sticky directory above a directory of root's is safe: others can neither rename nor remove it
        engine.create(external("s1", rootsBelowSticky.resolve("o.qcow2")));
        assertThat(dom0.rootFile(7, "xvdb")).isEqualTo(rootsBelowSticky.resolve("o.qcow2").toString());
    }

    @Test
    void aDirectorySwappedForALinkWhileCreatesRunNeverGetsAnOverlayOutsideTheRoots() throws Exception {
        Path swapped = Files.createDirectories(vm7.resolve("swapped"));
        Path kept = vm7.resolve("swapped.real");
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> swapperFailed = new ArrayList<>();
        // root, like the adversary: the directory becomes a link to a directory outside the roots and back, quickly
        Thread swapper = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.move(swapped, kept, StandardCopyOption.ATOMIC_MOVE);
                    Files.createSymbolicLink(swapped, outside);
                    Thread.sleep(0, 500_000);
                    Files.delete(swapped);
                    Files.move(kept, swapped, StandardCopyOption.ATOMIC_MOVE);
                    Thread.sleep(0, 500_000);
                }
            } catch (Exception e) {
                swapperFailed.add(e);
            }
        }, "swapper");
        Map<String, String> outcomes = new TreeMap<>();
        Map<String, String> messages = new TreeMap<>();
        swapper.start();
        try {
            for (int i = 0; i < 30; i++) {
                String name = "s" + i;
                try {
                    engine.create(external(name, swapped.resolve("o" + i + ".qcow2")));
                    outcomes.put(name, "created");
                } catch (SnapshotException e) {
                    outcomes.put(name, e.code().name());
                    messages.put(name, e.getMessage());
                }
            }
        } finally {
            stop.set(true);
            swapper.join(10_000);
        }
        assertThat(swapperFailed).isEmpty();
        assertThat(swapped).as("the swapper put the directory back").isDirectory();
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files.toList()).as("outside the roots, after " + outcomes + ": " + messages).isEmpty();
        }
        // every create that succeeded made its overlay inside; every other one left no file and QEMU where it was
        String top = null;
        for (int i = 0; i < 30; i++) {
            Path overlay = swapped.resolve("o" + i + ".qcow2");
            if (outcomes.get("s" + i).equals("created")) {
                assertThat(overlay).as("s" + i).isRegularFile();
                top = overlay.toString();
            } else {
                assertThat(outcomes.get("s" + i)).as("s" + i + ": " + messages.get("s" + i)).isIn("INVALID_ARGUMENT", "INVALID_STATE",
                        "HYPERVISOR_ERROR");
                assertThat(overlay).as("s" + i + " " + outcomes.get("s" + i)).doesNotExist();
            }
        }
        if (top != null) {
            assertThat(dom0.rootFile(7, "xvdb")).isEqualTo(top);
        }
        assertThat(engine.list(DOM).snapshots()).hasSize((int) outcomes.values().stream()
                .filter("created"::equals).count());
    }

    @Test
    void aDeleteAfterTheDirectoryWasSwappedForALinkRemovesNothingOutsideAndSaysSo() throws Exception {
        Path dir = Files.createDirectories(vm7.resolve("d"));
        Path overlay = dir.resolve("o.qcow2");
        engine.create(external("s1", overlay));
        Path victim = Files.writeString(outside.resolve("o.qcow2"), "someone's data outside the roots");
        Files.move(dir, vm7.resolve("d.real"), StandardCopyOption.ATOMIC_MOVE);
        Files.createSymbolicLink(dir, outside);

        assertThatThrownBy(() -> engine.delete(DOM, "s1")).isInstanceOfSatisfying(SnapshotException.class, e ->
                assertThat(e.getMessage()).contains(overlay + " not removed").contains("outside the allowed overlay"
                        + " roots"));

        assertThat(victim).hasContent("someone's data outside the roots");
        assertThat(vm7.resolve("d.real/o.qcow2")).as("left where it is, for reconcile and the operator").exists();
    }
}
