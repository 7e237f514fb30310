package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.ShortCommand;

/**
 * Disk full, on small tmpfs file systems. Mounting needs a mount namespace of its own so that nothing outside the
 * test sees the mounts: the cases run in a second JVM started under {@code unshare -m --propagation private}
 * ({@link DiskFullScenario}). When the namespace cannot be made (no CAP_SYS_ADMIN, unshare(1) missing) this test
 * fails and says so; it never skips.
 */
class DiskFullTest {

    @Test
    void aFullFileSystemRefusesOrLeavesAPendingMarkThatReconcileFinishes() {
        Path unshare = Prerequisite.UNSHARE.require();
        List<String> argv = new ArrayList<>(List.of(unshare.toString(), "-m", "--propagation", "private",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String jnaTmp = System.getProperty("jna.tmpdir");
        if (jnaTmp != null) {
            argv.add("-Djna.tmpdir=" + jnaTmp);
        }
        argv.addAll(List.of("-cp", System.getProperty("java.class.path"), DiskFullScenario.class.getName()));

        ShortCommand.Result r = ShortCommand.run(Duration.ofSeconds(120), argv);
        System.out.println(r.output());

        assertThat(r.exitCode()).as("the scenario in its own mount namespace (needs root with CAP_SYS_ADMIN for"
                + " unshare -m and mount -t tmpfs); its output:%n%s", r.output()).isZero();
        assertThat(r.output().lines().filter(l -> l.startsWith("PASS ")).toList()).as(r.output()).containsExactly(
                "PASS overlay file system below the free-space floor: create refused, nothing changed",
                "PASS overlay file system full: live create refused, nothing changed",
                "PASS catalog file system full: create and delete refused before anything changed",
                "PASS catalog file system full after the point of no return: pending, finished by reconcile",
                "PASS overlay file system full: offline create refused, nothing changed");
    }
}
