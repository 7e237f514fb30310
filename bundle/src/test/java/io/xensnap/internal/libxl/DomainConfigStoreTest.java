package io.xensnap.internal.libxl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DomainConfigStoreTest {

    private static final LibxlDomain SAMPLE = new LibxlDomain(5, UUID.fromString("2b5a4c1e-1111-4222-8333-944455556666"));
    private static final LibxlDomain WEB = new LibxlDomain(12, UUID.fromString("7f3e2a10-5b4c-4d8e-9a1b-0c2d3e4f5a6b"));

    @TempDir
    Path xenLib;

    private DomainConfigStore store() {
        return new DomainConfigStore(xenLib, Clock.systemUTC(), Duration.ofSeconds(5));
    }

    private Path install(String resource, LibxlDomain domain) throws Exception {
        Path file = config(domain);
        Files.write(file, TestFiles.resource(resource));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private Path config(LibxlDomain domain) {
        return xenLib.resolve("userdata-d." + domain.domid() + "." + domain.uuid() + ".libxl-json");
    }

    private static String replaceOnce(String text, String from, String to) {
        assertThat(text.split(java.util.regex.Pattern.quote(from), -1)).as("occurrences of %s", from).hasSize(2);
        return text.replace(from, to);
    }

    @Test
    void swappingTheSampleDiskChangesOnlyItsPathAndFormat() throws Exception {
        Path file = install(TestFiles.APPENDIX, SAMPLE);
        String original = TestFiles.text(TestFiles.resource(TestFiles.APPENDIX));

        LibxlDisk before = store().setDisk(SAMPLE, "xvda", "/var/lib/xen/images/testvm.snap-1.qcow2", LibxlDiskFormat.QCOW2);

        assertThat(before).isEqualTo(new LibxlDisk("xvda", "/dev/vg0/testvm-disk", LibxlDiskFormat.RAW));
        String expected = replaceOnce(replaceOnce(original,
                        "\"pdev_path\": \"/dev/vg0/testvm-disk\"", "\"pdev_path\": \"/var/lib/xen/images/testvm.snap-1.qcow2\""),
                "\"format\": \"raw\"", "\"format\": \"qcow2\"");
        assertThat(TestFiles.text(Files.readAllBytes(file))).isEqualTo(expected);
        assertThat(Files.readAllBytes(file)).endsWith(TestFiles.bytes("}\n\0"));
    }

    @Test
    void swappingADiskOfTheLargerConfigKeepsEveryOtherByte() throws Exception {
        Path file = install(TestFiles.LARGER, WEB);
        String original = TestFiles.text(TestFiles.resource(TestFiles.LARGER));

        LibxlDisk before = store().setDisk(WEB, "xvdb", "/snap/web-01 data \"1\" (ümlaut)\t.raw", LibxlDiskFormat.RAW);

        assertThat(before).isEqualTo(new LibxlDisk("xvdb", "/var/lib/xen/images/web-01 data (ümlaut).qcow2",
                LibxlDiskFormat.QCOW2));
        String expected = replaceOnce(original,
                "            \"pdev_path\": \"/var/lib/xen/images/web-01 data (ümlaut).qcow2\",\n"
                        + "            \"vdev\": \"xvdb\",\n"
                        + "            \"backend\": \"qdisk\",\n"
                        + "            \"format\": \"qcow2\",\n",
                "            \"pdev_path\": \"/snap/web-01 data \\\"1\\\" (ümlaut)\\t.raw\",\n"
                        + "            \"vdev\": \"xvdb\",\n"
                        + "            \"backend\": \"qdisk\",\n"
                        + "            \"format\": \"raw\",\n");
        assertThat(TestFiles.text(Files.readAllBytes(file))).isEqualTo(expected);
    }

    @Test
    void aMissingFormatIsAddedWhereLibxlWritesIt() throws Exception {
        Path file = install(TestFiles.LARGER, WEB);
        String original = TestFiles.text(TestFiles.resource(TestFiles.LARGER));

        LibxlDisk before = store().setDisk(WEB, "xvdc", "/srv/images/legacy.snap.qcow2", LibxlDiskFormat.QCOW2);

        assertThat(before).isEqualTo(new LibxlDisk("xvdc", "/srv/images/legacy.img", LibxlDiskFormat.UNKNOWN));
        String expected = replaceOnce(original,
                "            \"pdev_path\": \"/srv/images/legacy.img\",\n"
                        + "            \"vdev\": \"xvdc\",\n"
                        + "            \"backend\": \"qdisk\",\n",
                "            \"pdev_path\": \"/srv/images/legacy.snap.qcow2\",\n"
                        + "            \"vdev\": \"xvdc\",\n"
                        + "            \"backend\": \"qdisk\",\n"
                        + "            \"format\": \"qcow2\",\n");
        assertThat(TestFiles.text(Files.readAllBytes(file))).isEqualTo(expected);
    }

    @Test
    void revertingToTheDefaultFormatRemovesTheFieldAsLibxlOmitsDefaults() throws Exception {
        Path file = install(TestFiles.LARGER, WEB);
        DomainConfigStore store = store();
        store.setDisk(WEB, "xvdc", "/srv/images/legacy.snap.qcow2", LibxlDiskFormat.QCOW2);

        store.setDisk(WEB, "xvdc", "/srv/images/legacy.img", LibxlDiskFormat.UNKNOWN);

        assertThat(Files.readAllBytes(file)).isEqualTo(TestFiles.resource(TestFiles.LARGER));
    }

    @Test
    void aMissingPathIsAddedBeforeTheVdev() throws Exception {
        Path file = install(TestFiles.LARGER, WEB);
        String original = TestFiles.text(TestFiles.resource(TestFiles.LARGER));

        LibxlDisk before = store().setDisk(WEB, "hdc", "/isos/debian.iso", LibxlDiskFormat.RAW);

        assertThat(before).isEqualTo(new LibxlDisk("hdc", Optional.empty(), LibxlDiskFormat.EMPTY));
        String expected = replaceOnce(original,
                "            \"vdev\": \"hdc\",\n"
                        + "            \"backend\": \"qdisk\",\n"
                        + "            \"format\": \"empty\",\n",
                "            \"pdev_path\": \"/isos/debian.iso\",\n"
                        + "            \"vdev\": \"hdc\",\n"
                        + "            \"backend\": \"qdisk\",\n"
                        + "            \"format\": \"raw\",\n");
        assertThat(TestFiles.text(Files.readAllBytes(file))).isEqualTo(expected);
    }

    @Test
    void theWriteLeavesNoNewFileNoLockFileAndAPrivateConfig() throws Exception {
        Path file = install(TestFiles.APPENDIX, SAMPLE);

        store().setDisk(SAMPLE, "xvdb", "/var/lib/xen/images/data.snap.qcow2", LibxlDiskFormat.QCOW2);

        try (var entries = Files.list(xenLib)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly(file.getFileName().toString());
        }
        // libxl__userdata_store creates the new file 0600
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void readDiskReportsPathAndFormatAndTakesNoLastingLock() throws Exception {
        install(TestFiles.LARGER, WEB);
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        assertThat(store().readDisk(WEB, "xvda")).isEqualTo(new LibxlDisk("xvda", "/dev/vg0/web-01-root", LibxlDiskFormat.RAW));
        assertThat(store().readDisk(WEB, "hdc")).isEqualTo(new LibxlDisk("hdc", Optional.empty(), LibxlDiskFormat.EMPTY));
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    @Test
    void anUnchangedDiskIsNotRewritten() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        LibxlDisk before = store().setDisk(SAMPLE, "xvdb", "/var/lib/xen/images/data.qcow2", LibxlDiskFormat.QCOW2);

        assertThat(before).isEqualTo(new LibxlDisk("xvdb", "/var/lib/xen/images/data.qcow2", LibxlDiskFormat.QCOW2));
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    @Test
    void findLocatesTheOnlyConfigOfADomid() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);
        install(TestFiles.LARGER, WEB);
        Files.writeString(xenLib.resolve("userdata-d.5." + SAMPLE.uuid() + ".xl"), "name = \"testvm\"\n");

        assertThat(store().find(5)).isEqualTo(SAMPLE);
        assertThat(store().find(12)).isEqualTo(WEB);
    }

    @Test
    void findFailsWithNotFoundForAnUnknownDomid() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);

        assertReason(() -> store().find(55), LibxlConfigException.Reason.NOT_FOUND);
        assertReason(() -> new DomainConfigStore(xenLib.resolve("absent"), Clock.systemUTC(), Duration.ZERO).find(5),
                LibxlConfigException.Reason.NOT_FOUND);
    }

    @Test
    void findRefusesToGuessBetweenAStaleAndACurrentConfig() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);
        install(TestFiles.APPENDIX, new LibxlDomain(5, UUID.fromString("00000000-0000-4000-8000-000000000001")));

        assertThatThrownBy(() -> store().find(5)).isInstanceOfSatisfying(LibxlConfigException.class,
                e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.AMBIGUOUS))
                .hasMessageContaining(SAMPLE.uuid().toString()).hasMessageContaining("00000000-0000-4000-8000-000000000001");
    }

    @Test
    void aMissingConfigIsNotFoundAndCreatesNothing() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);
        Map<String, String> untouched = TestFiles.snapshot(xenLib);
        LibxlDomain other = new LibxlDomain(6, UUID.randomUUID());

        assertReason(() -> store().setDisk(other, "xvda", "/x", LibxlDiskFormat.RAW), LibxlConfigException.Reason.NOT_FOUND);
        assertReason(() -> store().readDisk(other, "xvda"), LibxlConfigException.Reason.NOT_FOUND);
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    @Test
    void anUnknownVdevIsNoSuchDiskAndChangesNothing() throws Exception {
        install(TestFiles.LARGER, WEB);
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        assertThatThrownBy(() -> store().setDisk(WEB, "xvdz", "/x", LibxlDiskFormat.RAW))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.NO_SUCH_DISK))
                .hasMessageContaining("xvdz");
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    @Test
    void aConfigWithoutDisksHasNoSuchDisk() throws Exception {
        Files.writeString(config(SAMPLE), "{\n    \"c_info\": {\n        \"name\": \"x\"\n    }\n}\n\0");
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        assertReason(() -> store().setDisk(SAMPLE, "xvda", "/x", LibxlDiskFormat.RAW), LibxlConfigException.Reason.NO_SUCH_DISK);
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    @Test
    void malformedConfigsAreReportedAndLeftAlone() throws Exception {
        List<String> broken = List.of(
                "{\n    \"disks\": [\n        {\n            \"vdev\": \"xvda\",\n",
                "",
                "\0",
                "[1, 2]\n\0",
                "{\"disks\": [{\"vdev\": \"xvda\", \"pdev_path\": \"/a\"}]} trailing\n\0",
                "{\"disks\": [{\"vdev\": \"xvda\", \"vdev\": \"xvdb\"}]}\n\0",
                "{\"disks\": {\"vdev\": \"xvda\"}}\n\0",
                "{\"disks\": [\"xvda\"]}\n\0",
                "{\"disks\": [{\"vdev\": \"xvda\", \"pdev_path\": 7}]}\n\0",
                "{\"disks\": [{\"vdev\": \"xvda\", \"format\": \"vmdk\"}]}\n\0",
                "{\"disks\": [{\"vdev\": \"xvda\"}, {\"vdev\": \"xvda\"}]}\n\0");
        for (String content : broken) {
            Files.writeString(config(SAMPLE), content);
            Map<String, String> untouched = TestFiles.snapshot(xenLib);

            assertThatThrownBy(() -> store().setDisk(SAMPLE, "xvda", "/x", LibxlDiskFormat.RAW))
                    .as("content %s", content)
                    .isInstanceOfSatisfying(LibxlConfigException.class,
                            e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.MALFORMED));
            assertThat(TestFiles.snapshot(xenLib)).as("content %s", content).isEqualTo(untouched);
        }
    }

    @Test
    void aFailedWriteLeavesTheConfigAndNoNewFile() throws Exception {
        Path file = install(TestFiles.APPENDIX, SAMPLE);
        // A directory where libxl's "n" file goes: the open for writing fails, as on a full or read-only disk.
        Path blocker = Files.createDirectory(xenLib.resolve("userdata-n.5." + SAMPLE.uuid() + ".libxl-json"));
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        assertReason(() -> store().setDisk(SAMPLE, "xvda", "/x.qcow2", LibxlDiskFormat.QCOW2), LibxlConfigException.Reason.IO);

        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
        assertThat(Files.readAllBytes(file)).isEqualTo(TestFiles.resource(TestFiles.APPENDIX));
        assertThat(blocker).isDirectory();
    }

    @Test
    void aStaleNewFileFromACrashedWriterIsOverwritten() throws Exception {
        Path file = install(TestFiles.APPENDIX, SAMPLE);
        Files.writeString(xenLib.resolve("userdata-n.5." + SAMPLE.uuid() + ".libxl-json"), "half a conf");

        store().setDisk(SAMPLE, "xvda", "/x.qcow2", LibxlDiskFormat.QCOW2);

        assertThat(store().readDisk(SAMPLE, "xvda")).isEqualTo(new LibxlDisk("xvda", "/x.qcow2", LibxlDiskFormat.QCOW2));
        try (var entries = Files.list(xenLib)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly(file.getFileName().toString());
        }
    }

    @Test
    void concurrentUpdatersInOneJvmEachSeeTheOthersChange() throws Exception {
        Path file = install(TestFiles.APPENDIX, SAMPLE);
        DomainConfigStore store = store();
        int threads = 8;
        int rounds = 5;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String mark = "/t" + t;
                done.add(pool.submit((Callable<Void>) () -> {
                    start.await(5, TimeUnit.SECONDS);
                    for (int r = 0; r < rounds; r++) {
                        // a read-modify-write: a lost update would drop another thread's mark
                        store.updateDisk(SAMPLE, "xvda", d -> d.withBacking(d.pdevPath().orElseThrow() + mark, d.format()));
                    }
                    return null;
                }));
            }
            for (Future<Void> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        String path = store.readDisk(SAMPLE, "xvda").pdevPath().orElseThrow();
        assertThat(path).startsWith("/dev/vg0/testvm-disk");
        for (int t = 0; t < threads; t++) {
            assertThat(path.split("/t" + t + "(?![0-9])", -1)).as("marks of thread %d in %s", t, path).hasSize(rounds + 1);
        }
        try (var entries = Files.list(xenLib)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly(file.getFileName().toString());
        }
        String expectedOriginalRest = replaceOnce(TestFiles.text(TestFiles.resource(TestFiles.APPENDIX)),
                "\"pdev_path\": \"/dev/vg0/testvm-disk\"", "\"pdev_path\": \"" + path + "\"");
        assertThat(TestFiles.text(Files.readAllBytes(file))).isEqualTo(expectedOriginalRest);
    }

    @Test
    void aChangeMayNotMoveTheDiskToAnotherVdev() throws Exception {
        install(TestFiles.APPENDIX, SAMPLE);
        Map<String, String> untouched = TestFiles.snapshot(xenLib);

        assertThatThrownBy(() -> store().updateDisk(SAMPLE, "xvda",
                d -> new LibxlDisk("xvdb", "/x", LibxlDiskFormat.RAW))).isInstanceOf(IllegalArgumentException.class);
        assertThat(TestFiles.snapshot(xenLib)).isEqualTo(untouched);
    }

    private static void assertReason(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
                                     LibxlConfigException.Reason reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(LibxlConfigException.class,
                e -> assertThat(e.reason()).isEqualTo(reason));
    }
}
