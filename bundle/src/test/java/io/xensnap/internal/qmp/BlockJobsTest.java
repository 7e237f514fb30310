package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Format;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.harness.TempRoot;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** block-commit and block-stream run to completion on a real QEMU; chains checked with qemu-img. */
class BlockJobsTest {

    private static final long MIB = 1024 * 1024;

    private TempRoot dir;
    private RealQemu qemu;
    private final List<JobProgress> progress = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        dir = TempRoot.create("xj");
    }

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
        dir.close();
    }

    private Path image(String name) {
        return dir.path().resolve(name);
    }

    /** base (0x50 over 8 MiB) ← top, and top's own data when {@code topPattern} ≥ 0 (over 4 MiB). */
    private Path chain(int topPattern) {
        Path base = image("base.qcow2");
        Path top = image("top.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", base.toString(), "64M");
        QmpTesting.fill(base, "qcow2", 0x50, 8 * MIB);
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
        if (topPattern >= 0) {
            QmpTesting.fill(top, "qcow2", topPattern, 4 * MIB);
        }
        return top;
    }

    private BlockJobs jobs(QmpConnection c) {
        return new BlockJobs(c, Duration.ofSeconds(30), Duration.ofMillis(20));
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void activeCommitWaitsForReadyCompletesAndMergesTheTopIntoTheBase(Profile profile) throws Exception {
        Path top = chain(0x66);
        Path base = image("base.qcow2");
        qemu = RealQemu.builder(profile).images(top).start();
        String disk = qemu.disk(0).id();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            BlockDevice before = new BlockDevices(c).resolve(disk);
            assertThat(before.fileChain()).containsExactly(top.toString(), base.toString());

            jobs(c).commitActive("commit-" + disk, before.nodeName(), null, progress::add);

            BlockDevice after = new BlockDevices(c).resolve(disk);
            assertThat(after.nodeChain()).containsExactly(before.nodeChain().get(1));
            assertThat(after.fileChain()).containsExactly(base.toString());
            assertThat(c.execute("query-jobs")).isEmpty(); // dismissed
        }
        assertThat(progress).extracting(JobProgress::status).contains("ready").endsWith("concluded");
        JobProgress last = progress.get(progress.size() - 1);
        assertThat(last.type()).isEqualTo("commit");
        assertThat(last.total()).isGreaterThanOrEqualTo(4 * MIB);
        assertThat(last.current()).isEqualTo(last.total());
        assertThat(QmpTesting.imgChain(base)).containsExactly(base.toString());
        assertThat(RealQemu.hasPattern(base, Format.QCOW2, 0x66)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void streamCopiesTheBackingDataIntoTheTopWhichThenStandsAlone(Profile profile) throws Exception {
        Path top = chain(-1);
        Path base = image("base.qcow2");
        qemu = RealQemu.builder(profile).images(top).start();
        String disk = qemu.disk(0).id();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            String root = new BlockDevices(c).resolve(disk).nodeName();

            jobs(c).stream("stream-" + disk, root, null, progress::add);

            BlockDevice after = new BlockDevices(c).resolve(disk);
            assertThat(after.nodeChain()).containsExactly(root);
            assertThat(after.fileChain()).containsExactly(top.toString());
        }
        assertThat(progress).extracting(JobProgress::status).endsWith("concluded");
        JobProgress last = progress.get(progress.size() - 1);
        assertThat(last.type()).isEqualTo("stream");
        assertThat(last.total()).isGreaterThanOrEqualTo(8 * MIB);
        assertThat(last.current()).isEqualTo(last.total());
        assertThat(QmpTesting.imgChain(top)).containsExactly(top.toString());
        qemu.close();
        Files.delete(base);
        assertThat(RealQemu.hasPattern(top, Format.QCOW2, 0x50)).isTrue();
    }

    @Test
    void intermediateCommitMergesAMiddleLayerAndKeepsTheRoot() throws Exception {
        Path mid = chain(0x77);
        Path top = image("top2.qcow2");
        Path base = image("base.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", "-b", mid.toString(), "-F", "qcow2", top.toString());
        qemu = RealQemu.builder(Profile.PLAIN).images(top).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            List<String> nodes = new BlockDevices(c).resolve("drive0").nodeChain();
            assertThat(nodes).hasSize(3);

            jobs(c).commit("commit-mid", "drive0", nodes.get(1), nodes.get(2), progress::add);

            BlockDevice after = new BlockDevices(c).resolve("drive0");
            assertThat(after.nodeChain()).containsExactly(nodes.get(0), nodes.get(2));
        }
        assertThat(progress).extracting(JobProgress::status).doesNotContain("ready").endsWith("concluded");
        assertThat(QmpTesting.imgChain(top)).containsExactly(top.toString(), base.toString());
        assertThat(RealQemu.hasPattern(base, Format.QCOW2, 0x77)).isTrue();
    }

    @Test
    void aJobFailureCarriesTheErrorFromQueryJobs() throws Exception {
        // blkdebug makes every read of the backing file fail with EIO: a real QEMU failing a real job
        Path base = image("e.qcow2");
        Path top = image("e-top.qcow2");
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", base.toString(), "64M");
        QmpTesting.fill(base, "qcow2", 0x11, MIB);
        QmpTesting.qemuImg("create", "-q", "-f", "qcow2", top.toString(), "64M");
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            c.execute("blockdev-add", (com.fasterxml.jackson.databind.node.ObjectNode) QmpTesting.JSON.readTree(
                    "{\"driver\":\"qcow2\",\"node-name\":\"bad\",\"file\":{\"driver\":\"file\",\"filename\":\""
                            + top + "\"},\"backing\":{\"driver\":\"qcow2\",\"node-name\":\"bad-base\",\"file\":"
                            + "{\"driver\":\"blkdebug\",\"image\":{\"driver\":\"file\",\"filename\":\"" + base
                            + "\"},\"inject-error\":[{\"event\":\"read_aio\",\"errno\":5}]}}}"));

            QmpException e = catchThrowableOfType(QmpException.class,
                    () -> jobs(c).stream("s-bad", "bad", null, progress::add));

            assertThat(e.kind()).isEqualTo(Kind.JOB_FAILED);
            assertThat(e.desc()).isEqualTo("Input/output error");
            assertThat(e).hasMessageContaining("block-stream job s-bad failed: Input/output error");
            assertThat(c.execute("query-jobs")).isEmpty();
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void aJobThatOutlastsItsTimeoutIsReportedAndCanBeCancelled() throws Exception {
        Path top = chain(-1);
        qemu = RealQemu.builder(Profile.PLAIN).images(top).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            // 64 KiB/s for 8 MiB: minutes, far beyond the timeout
            BlockJobs slow = new BlockJobs(c, Duration.ofMillis(300), Duration.ofMillis(20)).withSpeed(64 * 1024);
            long start = System.nanoTime();
            QmpException e = catchThrowableOfType(QmpException.class,
                    () -> slow.stream("slow", "disk0", null, progress::add));
            long ms = (System.nanoTime() - start) / 1_000_000;

            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(e).hasMessageContaining("block-stream job slow still running after PT0.3S");
            assertThat(ms).isBetween(250L, 2500L);
            assertThat(slow.query("slow")).get().extracting(JobProgress::status).isEqualTo("running");

            slow.cancel("slow");

            assertThat(slow.query("slow")).isEmpty();
            assertThat(new BlockDevices(c).resolve("drive0").fileChain()).hasSize(2);
        }
        assertThat(progress).isNotEmpty().allMatch(p -> p.status().equals("running"));
    }
}
