package io.xensnap.internal.engine.space;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotSpace.Accuracy;
import io.xensnap.api.SnapshotTree;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.TempRoot;

/**
 * Space figures against images made and written by the real qemu-img and qemu-io, checked against what
 * {@code qemu-img map}, {@code qemu-img check} and a real {@code qemu-img snapshot -d} say.
 */
class SpaceCounterTest {

    private static final String UUID = "0f4cc5c4-6c6b-4a4e-9b1c-2f1b7b1f6a01";
    private static final String QEMU_IMG = Prerequisite.QEMU_IMG.require().toString();
    private static final String QEMU_IO = Prerequisite.QEMU_IO.require().toString();
    private static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");

    private final ObjectMapper json = new ObjectMapper();
    private final SpaceCounter counter = new SpaceCounter(Clock.fixed(NOW, ZoneOffset.UTC));
    private TempRoot dir;

    @BeforeEach
    void setUp() {
        dir = TempRoot.create("xsp");
    }

    @AfterEach
    void tearDown() {
        dir.close();
    }

    @ParameterizedTest(name = "cluster size {0}, refcount bits {1}, extended L2 {2}")
    @CsvSource({"65536,16,off", "4096,1,off", "2097152,64,off", "65536,4,on", "32768,32,on"})
    void anOverlayHoldingKWrittenClustersReportsKClusters(long cluster, int refcountBits, String extendedL2)
            throws Exception {
        Path base = qcow2("base.qcow2", "cluster_size=65536");
        io(base, "write -P 0x41 0 4M");
        Path overlay = path("base.s1.qcow2");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", "-o",
                "cluster_size=" + cluster + ",refcount_bits=" + refcountBits + ",extended_l2=" + extendedL2,
                overlay.toString());
        // K = 2 + 3 + 1 clusters: a whole one, three in a row, one partly written (QEMU copies the rest up)
        io(overlay, "write -P 0x5a 0 " + cluster);
        io(overlay, "write -P 0x5a " + 10 * cluster + " " + 3 * cluster);
        io(overlay, "write -P 0x5a " + 20 * cluster + " " + 512);
        io(overlay, "write -P 0x5a " + 30 * cluster + " " + cluster);
        long k = 6;

        SnapshotSpace.Disk d = only(external("s1", base, DiskFormat.QCOW2, overlay));

        assertThat(d.held()).isEqualTo(k * cluster);
        assertThat(d.file()).isEqualTo(overlay);
        // qemu-img's own view: the clusters under the data the top layer holds (with subclusters, map reports
        // only the written part of a cluster, while the whole cluster is taken), and those its check counts
        assertThat(mappedClustersInTop(overlay, cluster)).isEqualTo(k);
        assertThat(check(overlay).path("allocated-clusters").asLong()).isEqualTo(k);
        // the merge writes into the base's clusters in place where the base holds data (its first 4 MiB)
        assertThat(d.accuracy()).isEqualTo(Accuracy.ESTIMATE);
        assertThat(d.freed()).isPositive();
    }

    @Test
    void aFreshOverlayHoldsNothingAndARawBaseIsSaidNotToBeSubtracted() throws Exception {
        Path base = path("base.raw");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "raw", base.toString(), "64M");
        Path overlay = path("base.s1.qcow2");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw",
                overlay.toString());

        SnapshotSpace.Disk d = only(external("s1", base, DiskFormat.RAW, overlay));

        assertThat(d.held()).isZero();
        assertThat(d.note()).contains("raw frozen image");
    }

    @Test
    void theMergeIntoAQcow2BaseSubtractsTheClustersTheBaseMustAllocate() throws Exception {
        Path base = qcow2("base.qcow2", "cluster_size=65536");
        io(base, "write -P 0x41 0 1M");
        Path overlay = path("base.s1.qcow2");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                overlay.toString());
        io(overlay, "write -P 0x5a 0 256k");
        SnapshotSpace.Disk inPlace = only(external("s1", base, DiskFormat.QCOW2, overlay));
        io(overlay, "write -P 0x5a 8M 256k");
        SnapshotSpace.Disk grows = only(external("s1", base, DiskFormat.QCOW2, overlay));

        // the second write lands where the base has nothing: the base grows by 4 clusters and the overlay's used
        // clusters grow by the same 4, so what the delete frees stays the same
        assertThat(grows.held() - inPlace.held()).isEqualTo(4 * 65536);
        assertThat(grows.freed()).isEqualTo(inPlace.freed());
    }

    @ParameterizedTest(name = "refcount bits {0}")
    @ValueSource(ints = {2, 4, 8, 16, 32, 64})
    void anInternalSnapshotHoldsExactlyTheClustersTheActiveLayerOverwroteSinceAndQemuFreesThemOnDelete(
            int refcountBits) throws Exception {
        Path image = qcow2("disk.qcow2", "refcount_bits=" + refcountBits);
        io(image, "write -P 0x41 0 2M");
        snapshot(image, "s1");

        SnapshotSpace.Disk before = only(internal("s1", image));
        assertThat(before.held()).isZero();
        assertThat(before.accuracy()).isEqualTo(Accuracy.EXACT);
        // nothing but its own copy of the L1 table: every data cluster and L2 table is shared with the active layer
        assertThat(before.freed()).isEqualTo(65536);

        // N = 5 clusters overwritten, one of them only partly; a write where nothing was before holds nothing old
        io(image, "write -P 0x5a 128k 256k");
        io(image, "write -P 0x5a 1M 4k");
        io(image, "write -P 0x5a 8M 1M");
        SnapshotSpace.Disk after = only(internal("s1", image));

        assertThat(after.held()).isEqualTo(5 * 65536);
        assertThat(after.accuracy()).isEqualTo(Accuracy.EXACT);
        // and the L2 table QEMU copied for the active layer's first write is the snapshot's alone
        assertThat(after.freed()).isEqualTo(after.held() + 2 * 65536);
        // qemu-img's delete gives back at least the data and the L2 table; the rest is the L1 copy (only partly
        // written, so partly allocated by the file system) and the old snapshot table, which xensnap leaves out
        long released = releasedByDelete(image, "s1");
        assertThat(released).isBetween(after.held() + 65536, after.freed() + 65536);
    }

    @Test
    void withTwoSnapshotsAClusterBothReferenceIsNeitherOnesOwn() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");
        io(image, "write -P 0x41 0 1M");
        snapshot(image, "s1");
        io(image, "write -P 0x42 0 128k");
        snapshot(image, "s2");
        io(image, "write -P 0x43 0 64k");
        io(image, "write -P 0x43 512k 192k");

        List<SnapshotSpace> spaces = counter.count(tree(List.of(info("s1", null, internalDisk(image)),
                info("s2", "s1", internalDisk(image)))));

        // s1 alone has the 0x41 data of clusters 0-1; s2 alone has the 0x42 data of cluster 0 (cluster 1 of s2 is
        // the active layer's too); clusters 8-10 hold 0x41 data both snapshots reference
        assertThat(spaces.get(0).disks().get(0).held()).isEqualTo(2 * 65536);
        assertThat(spaces.get(1).disks().get(0).held()).isEqualTo(65536);
    }

    @Test
    void zeroedAndCompressedClustersAreCounted() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");
        io(image, "write -P 0x41 0 1M");
        io(image, "write -c -P 0x11 2M 64k");
        snapshot(image, "s1");
        // zeroing with unmap drops the active layer's reference: the snapshot alone keeps the old data (without
        // unmap QEMU keeps the shared cluster under the zero flag, and the snapshot holds nothing of its own)
        io(image, "write -z 0 64k");
        io(image, "write -z -u 64k 128k");
        io(image, "write -P 0x5a 2M 64k");

        SnapshotSpace.Disk d = only(internal("s1", image));

        // two data clusters and one compressed cluster of a sector or two
        assertThat(d.held()).isGreaterThan(2 * 65536).isLessThanOrEqualTo(2 * 65536 + 1024);
        assertThat(d.accuracy()).isEqualTo(Accuracy.ESTIMATE);
        assertThat(d.note()).contains("compressed");
    }

    @Test
    void anImageThatIsGoneOrLacksTheSnapshotIsUnknownWithTheReason() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");

        SnapshotSpace.Disk missing = only(internal("s1", image));
        SnapshotSpace.Disk gone = only(external("s1", image, DiskFormat.QCOW2, path("gone.qcow2")));

        assertThat(missing.accuracy()).isEqualTo(Accuracy.UNKNOWN);
        assertThat(missing.note()).contains("holds no internal snapshot named s1");
        assertThat(gone.accuracy()).isEqualTo(Accuracy.UNKNOWN);
        assertThat(gone.note()).contains("does not exist");
        assertThat(gone.held()).isZero();
    }

    @Test
    void aFileThatIsNotQcow2OrIsCutShortIsUnknownAndTheOtherDisksAreStillCounted() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");
        io(image, "write -P 0x41 0 1M");
        snapshot(image, "s1");
        Path text = path("text.qcow2");
        java.nio.file.Files.writeString(text, "someone's data");
        Path cut = path("cut.qcow2");
        java.nio.file.Files.copy(image, cut);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(cut,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(3 * 65536);
        }

        List<SnapshotSpace> spaces = counter.count(tree(List.of(new SnapshotInfo(UUID, "s1", "", NOW, null, List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, text, DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdb", SnapshotKind.INTERNAL, cut, DiskFormat.QCOW2, null),
                internalDisk(image))))));

        List<SnapshotSpace.Disk> disks = spaces.get(0).disks();
        assertThat(disks.get(0).accuracy()).isEqualTo(Accuracy.UNKNOWN);
        assertThat(disks.get(0).note()).contains("is not a qcow2 image");
        assertThat(disks.get(1).accuracy()).isEqualTo(Accuracy.UNKNOWN);
        assertThat(disks.get(1).note()).contains("cut.qcow2");
        assertThat(disks.get(2).accuracy()).isEqualTo(Accuracy.EXACT);
        assertThat(spaces.get(0).accuracy()).isEqualTo(Accuracy.UNKNOWN);
    }

    @Test
    void aSnapshotWithMemoryHoldsAndFreesItsSaveImageToo() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");
        io(image, "write -P 0x41 0 1M");
        snapshot(image, "s1");
        io(image, "write -P 0x42 0 1M");
        SnapshotSpace diskOnly = internal("s1", image).get(0);
        SnapshotInfo withMemory = info("s1", null, internalDisk(image))
                .withMemory(new io.xensnap.api.MemoryImage(path("s1.xlsave"), 134_217_728L, ""));

        SnapshotSpace space = counter.count(tree(List.of(withMemory))).get(0);

        assertThat(space.memoryImage()).isEqualTo(134_217_728L);
        assertThat(space.held()).isEqualTo(diskOnly.held() + 134_217_728L);
        assertThat(space.freed()).isEqualTo(diskOnly.freed() + 134_217_728L);
    }

    /**
     * A QEMU that dies with lazy refcounts leaves the image dirty: its refcounts may lag its tables. The counter then
     * counts from the tables alone and says so; the figure is what a repaired image gives.
     */
    @Test
    void aDirtyImageIsCountedFromItsTablesAloneAndSaysSo() throws Exception {
        Path image = qcow2("dirty.qcow2", "cluster_size=65536,lazy_refcounts=on");
        io(image, "write -P 0x41 0 1M");
        snapshot(image, "s1");
        // qemu-io's abort: the write's table updates are on disk, its refcount updates may not be, the dirty bit is
        ShortCommand.run(java.time.Duration.ofSeconds(30), List.of("sh", "-c", "ulimit -c 0; cd " + dir.path()
                + " && exec " + QEMU_IO + " -f qcow2 -c 'write -P 0x42 0 1M' -c abort " + image));

        SnapshotSpace.Disk dirty = only(internal("s1", image));

        assertThat(dirty.accuracy()).isEqualTo(Accuracy.ESTIMATE);
        assertThat(dirty.note()).contains("dirty");
        assertThat(dirty.held()).as("the 16 clusters only s1 reaches now").isEqualTo(16 * 65536L);
        ShortCommand.ok(QEMU_IMG, "check", "-q", "-r", "all", image.toString());
        SnapshotSpace.Disk repaired = only(internal("s1", image));
        assertThat(repaired.accuracy()).isEqualTo(Accuracy.EXACT);
        assertThat(dirty.held()).as("what the repaired image gives").isEqualTo(repaired.held());
    }

    @Test
    void theFiguresSayWhenTheyWereRead() throws Exception {
        Path image = qcow2("disk.qcow2", "cluster_size=65536");
        snapshot(image, "s1");

        assertThat(counter.count(tree(List.of(info("s1", null, internalDisk(image))))).get(0).readAt())
                .isEqualTo(NOW);
    }

    // --- helpers

    private Path path(String name) {
        return dir.path().resolve(name);
    }

    private Path qcow2(String name, String options) {
        Path p = path(name);
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", options, p.toString(), "64M");
        return p;
    }

    private static void io(Path image, String command) {
        ShortCommand.ok(QEMU_IO, "-f", "qcow2", "-c", command, image.toString());
    }

    private static void snapshot(Path image, String name) {
        ShortCommand.ok(QEMU_IMG, "snapshot", "-c", name, image.toString());
    }

    private long mappedClustersInTop(Path image, long cluster) throws Exception {
        java.util.BitSet clusters = new java.util.BitSet();
        for (JsonNode e : json.readTree(ShortCommand.ok(QEMU_IMG, "map", "-U", "--output=json", image.toString())
                .output())) {
            if (e.path("depth").asInt() == 0 && e.path("data").asBoolean()) {
                long start = e.path("start").asLong();
                long end = start + e.path("length").asLong();
                clusters.set((int) (start / cluster), (int) ((end + cluster - 1) / cluster));
            }
        }
        return clusters.cardinality();
    }

    private JsonNode check(Path image) throws Exception {
        return json.readTree(ShortCommand.ok(QEMU_IMG, "check", "-U", "--output=json", image.toString()).output());
    }

    /**
     * @return the bytes the file system gives back when qemu-img deletes {@code name} (QEMU discards the clusters it
     *         frees by default); done on the image itself, as a copy would not keep its allocation
     */
    private long releasedByDelete(Path image, String name) throws Exception {
        long before = allocated(image);
        ShortCommand.ok(QEMU_IMG, "snapshot", "-d", name, image.toString());
        return before - allocated(image);
    }

    private static long allocated(Path file) {
        return Long.parseLong(ShortCommand.ok("du", "-B1", file.toString()).output().trim().split("\\s+")[0]);
    }

    private static DiskSnapshot internalDisk(Path image) {
        return new DiskSnapshot("xvda", SnapshotKind.INTERNAL, image, DiskFormat.QCOW2, null);
    }

    private static SnapshotInfo info(String name, String parent, DiskSnapshot disk) {
        return new SnapshotInfo(UUID, name, "", NOW, parent, List.of(disk));
    }

    private static SnapshotTree tree(List<SnapshotInfo> snapshots) {
        return new SnapshotTree(UUID, snapshots.get(snapshots.size() - 1).name(), new ArrayList<>(snapshots));
    }

    private List<SnapshotSpace> internal(String name, Path image) {
        return counter.count(tree(List.of(info(name, null, internalDisk(image)))));
    }

    private List<SnapshotSpace> external(String name, Path base, DiskFormat format, Path overlay) {
        return counter.count(tree(List.of(info(name, null,
                new DiskSnapshot("xvda", SnapshotKind.EXTERNAL, base, format, overlay)))));
    }

    private static SnapshotSpace.Disk only(List<SnapshotSpace> spaces) {
        assertThat(spaces).hasSize(1);
        assertThat(spaces.get(0).disks()).hasSize(1);
        return spaces.get(0).disks().get(0);
    }
}
