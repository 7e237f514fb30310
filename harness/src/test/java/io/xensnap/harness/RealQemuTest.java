package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RealQemuTest {

    private static final Duration QMP = Duration.ofSeconds(5);

    private RealQemu qemu;
    private TempRoot root;

    @AfterEach
    void cleanUp() {
        if (qemu != null) {
            qemu.close();
        }
        if (root != null) {
            root.close();
        }
    }

    @Test
    void plainProfileShowsNamedBlockBackendsDriveN() throws IOException {
        qemu = RealQemu.builder(RealQemu.Profile.PLAIN).disks(2).start();

        String block = RawQmp.execute(qemu.qmpSocket(), QMP, "{\"execute\":\"query-block\"}");

        assertThat(block).contains("\"device\": \"drive0\"", "\"node-name\": \"disk0\"",
                "\"device\": \"drive1\"", "\"node-name\": \"disk1\"", "\"drv\": \"qcow2\"")
                .doesNotContain("\"qdev\"");
        assertThat(qemu.disks()).extracting(RealQemu.Disk::id, RealQemu.Disk::nodeName)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("drive0", "disk0"),
                        org.assertj.core.groups.Tuple.tuple("drive1", "disk1"));
        assertThat(block).contains("\"file\": \"" + qemu.disk(1).image() + "\"");
    }

    @Test
    void xenQdiskProfileShowsAnonymousBackendsWithVdevDriverNodeNamesOnTheLibxlSocket() throws IOException {
        root = TempRoot.create("xr");
        qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                .formats(RealQemu.Format.QCOW2, RealQemu.Format.RAW)
                .libxlQmpSocket(root.path(), 7)
                .start();

        assertThat(qemu.qmpSocket()).isEqualTo(root.path().resolve("var/run/xen/qmp-libxl-7"));
        List<String> replies = RawQmp.exchange(qemu.qmpSocket(), QMP,
                "{\"execute\":\"query-block\"}", "{\"execute\":\"query-status\"}");

        assertThat(replies.get(0)).contains("\"device\": \"\"", "\"node-name\": \"xvda-qcow2\"",
                "\"node-name\": \"xvdb-raw\"", "\"qdev\": \"/machine/peripheral/xvda/virtio-backend\"",
                "\"qdev\": \"/machine/peripheral/xvdb/virtio-backend\"", "\"drv\": \"raw\"")
                .doesNotContain("\"device\": \"xvda\"");
        assertThat(replies.get(1)).contains("\"status\": \"prelaunch\"", "\"running\": false");
        assertThat(qemu.disks()).extracting(RealQemu.Disk::id).containsExactly("xvda", "xvdb");
    }

    @Test
    void vdevNamesFollowLinuxNaming() {
        assertThat(List.of(RealQemu.vdev(0), RealQemu.vdev(1), RealQemu.vdev(25), RealQemu.vdev(26), RealQemu.vdev(27)))
                .containsExactly("xvda", "xvdb", "xvdz", "xvdaa", "xvdab");
    }

    @Test
    void withDataWritesARecognisablePatternPerDisk() {
        qemu = RealQemu.builder(RealQemu.Profile.PLAIN).formats(RealQemu.Format.QCOW2, RealQemu.Format.RAW)
                .withData(0xa0).start();

        RealQemu.Disk d0 = qemu.disk(0);
        RealQemu.Disk d1 = qemu.disk(1);
        assertThat(d0.pattern()).hasValue(0xa0);
        assertThat(d1.pattern()).hasValue(0xa1);
        // while QEMU holds the images: hasPattern must share locks
        assertThat(RealQemu.hasPattern(d0.image(), d0.format(), 0xa0)).isTrue();
        assertThat(RealQemu.hasPattern(d1.image(), d1.format(), 0xa1)).isTrue();
        assertThat(RealQemu.hasPattern(d1.image(), d1.format(), 0xa0)).isFalse();
    }

    @Test
    void existingImagesAreUsedAsGiven() throws IOException {
        root = TempRoot.create("xr");
        Path img = root.resolve("mine,with-comma.qcow2");
        ShortCommand.run(QMP, List.of(Prerequisite.QEMU_IMG.require().toString(), "create", "-q", "-f", "qcow2", img.toString(), "16M")).orThrow();
        qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK).images(img).start();

        assertThat(qemu.disk(0).image()).isEqualTo(img);
        assertThat(RawQmp.execute(qemu.qmpSocket(), QMP, "{\"execute\":\"query-block\"}"))
                .contains("\"filename\": \"" + img + "\"", "\"virtual-size\": 16777216");
    }

    @Test
    void aStartFailureReportsQemusLog() {
        root = TempRoot.create("xr");
        Path missing = root.path().resolve("missing.qcow2");

        assertThatThrownBy(() -> RealQemu.builder(RealQemu.Profile.PLAIN).images(missing).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before it was ready")
                .hasMessageContaining("Could not open '" + missing + "'");
    }

    @Test
    void closeQuitsQemuAndRemovesItsDirectory() {
        qemu = RealQemu.builder(RealQemu.Profile.XEN_QDISK).disks(2).start();
        long pid = qemu.pid();
        Path socket = qemu.qmpSocket();

        qemu.close();

        assertThat(gone(pid)).as("QEMU pid %d gone", pid).isTrue();
        assertThat(socket.getParent()).doesNotExist();
    }

    @Test
    void killLeavesQemuDeadAndCloseStillCleansUp() {
        qemu = RealQemu.builder(RealQemu.Profile.PLAIN).start();
        long pid = qemu.pid();

        qemu.kill();

        assertThat(gone(pid)).isTrue();
        assertThat(qemu.isAlive()).isFalse();
        qemu.close();
        assertThat(qemu.qmpSocket().getParent()).doesNotExist();
    }

    @Test
    void killingTheTestJvmMidRunLeavesNoQemuBehind() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                QemuOrphanMain.class.getName())
                .redirectErrorStream(true).start();
        long qemuPid;
        Path socket;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = readLineWithin(out, Duration.ofSeconds(30));
            assertThat(line).as("child output").startsWith("qemu-pid ");
            String[] parts = line.split(" ");
            qemuPid = Long.parseLong(parts[1]);
            socket = Path.of(parts[3]);
            assertThat(gone(qemuPid)).isFalse();

            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!gone(qemuPid) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(gone(qemuPid)).as("QEMU pid %d gone after its JVM was killed", qemuPid).isTrue();
        } finally {
            // a failing run must not leave the orphan behind either
            ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);
            // the killed JVM could not remove its directory
            TempRoot.deleteTree(socket.getParent());
        }
    }

    /** Gone, or a zombie waiting for PID 1 to reap it (docs/qemu.md#processes). */
    static boolean gone(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String s = Files.readString(stat);
            return s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static String readLineWithin(BufferedReader in, Duration timeout) throws Exception {
        java.util.concurrent.CompletableFuture<String> line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return in.readLine();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
