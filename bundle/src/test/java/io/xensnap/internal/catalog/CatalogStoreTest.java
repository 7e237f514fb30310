package io.xensnap.internal.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;

class CatalogStoreTest {

    private static final String UUID = "2b5a4c1e-1111-4222-8333-944455556666";

    @TempDir
    Path state;

    @Test
    void aDomainWithoutSnapshotsHasAnEmptyCatalogAndNoFile() throws Exception {
        CatalogStore store = new CatalogStore(state);
        DomainCatalog c = store.load(UUID);
        assertThat(c.snapshots()).isEmpty();
        assertThat(c.current()).isNull();
        assertThat(store.file(UUID)).doesNotExist();
        assertThat(store.uuids()).isEmpty();
    }

    @Test
    void aNewStoreOverTheSameDirectoryReadsTheSameTree() throws Exception {
        DomainCatalog c = DomainCatalog.empty(UUID).withName("vm1")
                .withSnapshot(internal("s1", null), disks("/img/a.qcow2"))
                .withSnapshot(external("s2", "s1"), disks("/img/a.s2.qcow2"))
                .withPending(Optional.of(new PendingOperation(PendingOperation.Kind.DELETE, "s1",
                        Instant.parse("2026-11-26T05:00:00Z"))));
        new CatalogStore(state).save(c);

        DomainCatalog back = new CatalogStore(state).load(UUID);
        assertThat(back).isEqualTo(c);
        assertThat(back.tree().children("s1")).extracting(SnapshotInfo::name).containsExactly("s2");
        assertThat(new CatalogStore(state).uuids()).containsExactly(UUID);
        try (var s = Files.list(state.resolve("domains"))) {
            assertThat(s).as("no temp file left behind").containsExactly(new CatalogStore(state).file(UUID));
        }
    }

    @Test
    void aReadIsKeptUntilTheFileChangesWhoeverChangesIt() throws Exception {
        CatalogStore store = new CatalogStore(state);
        DomainCatalog one = DomainCatalog.empty(UUID).withSnapshot(internal("s1", null), disks("/img/a.qcow2"));
        store.save(one);
        DomainCatalog first = store.load(UUID);
        assertThat(first).isEqualTo(one);
        assertThat(store.load(UUID)).as("unchanged file: the same catalog, not parsed again").isSameAs(first);

        // another store (another process) replaces the file: this one must see the new catalog at once
        DomainCatalog two = one.withSnapshot(internal("s2", "s1"), disks("/img/a.qcow2"));
        new CatalogStore(state).save(two);
        assertThat(store.load(UUID)).isEqualTo(two);

        // changed in place (no rename, same inode): noticed by size and time, and a torn file is reported corrupt
        byte[] bytes = Files.readAllBytes(store.file(UUID));
        Files.write(store.file(UUID), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> store.load(UUID)).isInstanceOf(CatalogException.class).hasMessageContaining("corrupt");
        Files.write(store.file(UUID), bytes);
        assertThat(store.load(UUID)).isEqualTo(two);

        Files.delete(store.file(UUID));
        assertThat(store.load(UUID).snapshots()).as("a removed file is no catalog").isEmpty();
    }

    @Test
    void aPendingCreateKeepsItsPlanAndAnOlderMarkWithoutOneStillReads() throws Exception {
        List<DiskSnapshot> plan = List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null),
                new DiskSnapshot("xvdc", SnapshotKind.EXTERNAL, Path.of("/img/c.raw"), DiskFormat.RAW,
                        Path.of("/img/c.s1.qcow2")));
        DomainCatalog c = DomainCatalog.empty(UUID).withPending(Optional.of(new PendingOperation(
                PendingOperation.Kind.CREATE, "s1", Instant.parse("2026-11-26T05:00:00Z"), "why", plan)));
        CatalogStore store = new CatalogStore(state);
        store.save(c);
        assertThat(store.load(UUID)).isEqualTo(c);

        String older = Files.readString(store.file(UUID)).replaceAll("(?s),\\s*\"description\" : \"why\".*?\\]", "");
        assertThat(older).doesNotContain("xvdc");
        Files.writeString(store.file(UUID), older);
        assertThat(store.load(UUID).pending().orElseThrow().disks()).isEmpty();
    }

    @Test
    void aSnapshotWithMemoryKeepsItsSaveImageAndItsMarkRecordsTheImageBeforeItExists() throws Exception {
        Path image = new CatalogStore(state).memoryImage(UUID, "m1");
        assertThat(image).isEqualTo(state.resolve("memory").resolve(UUID).resolve("m1.xlsave"));
        List<DiskSnapshot> plan = List.of(
                new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null));
        DomainCatalog marked = DomainCatalog.empty(UUID).withPending(Optional.of(new PendingOperation(
                PendingOperation.Kind.CREATE, "m1", Instant.parse("2026-12-06T05:00:00Z"), "", plan, image, null)));
        CatalogStore store = new CatalogStore(state);
        store.save(marked);
        DomainCatalog back = new CatalogStore(state).load(UUID);
        assertThat(back).isEqualTo(marked);
        assertThat(back.pending().orElseThrow().memory()).isEqualTo(image);
        assertThat(back.made()).as("a save image is no overlay: the mark, not the orphan scan, settles it").isEmpty();

        MemoryImage memory = new MemoryImage(image, 201_733_935L,
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        SnapshotInfo withMemory = internal("m1", null).withMemory(memory);
        DomainCatalog done = DomainCatalog.empty(UUID).withSnapshot(withMemory, disks("/img/a.qcow2"))
                .withSnapshot(internal("d1", "m1"), disks("/img/a.qcow2"));
        store.save(done);
        DomainCatalog read = new CatalogStore(state).load(UUID);
        assertThat(read.snapshot("m1").orElseThrow().memory()).isEqualTo(memory);
        assertThat(read.snapshot("d1").orElseThrow().memory()).as("a disk snapshot has none").isNull();
        assertThat(read.withoutSnapshot("d1").snapshot("m1").orElseThrow().memory()).isNotNull();
    }

    @Test
    void deletingASnapshotHandsItsChildrenAndCurrentToItsParent() {
        DomainCatalog c = DomainCatalog.empty(UUID)
                .withSnapshot(internal("s1", null), disks("/img/a.qcow2"))
                .withSnapshot(internal("s2", "s1"), disks("/img/a.qcow2"))
                .withSnapshot(internal("s3", "s2"), disks("/img/a.qcow2"));
        DomainCatalog without = c.withoutSnapshot("s2");
        assertThat(without.snapshot("s3").orElseThrow().parent()).isEqualTo("s1");
        assertThat(without.current()).isEqualTo("s3");
        assertThat(without.withoutSnapshot("s3").current()).isEqualTo("s1");
    }

    @Test
    void aCorruptCatalogIsReportedAndLeftInPlace() throws Exception {
        CatalogStore store = new CatalogStore(state);
        store.save(DomainCatalog.empty(UUID).withSnapshot(internal("s1", null), disks("/img/a.qcow2")));
        Path f = store.file(UUID);
        byte[] whole = Files.readAllBytes(f);
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
        Files.write(f, truncated);

        assertThatThrownBy(() -> store.load(UUID)).isInstanceOf(CatalogException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("corrupt");
        assertThat(Files.readAllBytes(f)).isEqualTo(truncated);
    }

    @Test
    void aCatalogOfAnotherVersionOrDomainIsRefused() throws Exception {
        CatalogStore store = new CatalogStore(state);
        Files.createDirectories(store.file(UUID).getParent());
        Files.writeString(store.file(UUID), "{\"version\":99}", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> store.load(UUID)).hasMessageContaining("format version 99");

        String other = "00000000-0000-4000-8000-000000000001";
        store.save(DomainCatalog.empty(other).withSnapshot(new SnapshotInfo(other, "s1", "", Instant.EPOCH, null,
                List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/i.qcow2"), DiskFormat.QCOW2, null))),
                List.of()));
        Files.copy(store.file(other), store.file(UUID), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> store.load(UUID)).hasMessageContaining("holds domain " + other);
    }

    @Test
    void aWriteThatFailsLeavesTheOldCatalog() throws Exception {
        // one record fills the journal: the third save rewrites the catalog file
        CatalogStore store = new CatalogStore(state, new Flushes(), 1);
        DomainCatalog c1 = DomainCatalog.empty(UUID).withSnapshot(internal("s1", null), disks("/img/a.qcow2"));
        store.save(DomainCatalog.empty(UUID));
        store.save(c1);
        // a directory where the temp file goes makes the write fail after the old file exists
        Files.createDirectory(state.resolve("domains/." + UUID + ".json.tmp"));
        assertThatThrownBy(() -> store.save(c1.withSnapshot(internal("s2", "s1"), disks("/img/a.qcow2"))))
                .isInstanceOf(CatalogException.class).hasMessageContaining("cannot be written");
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(c1);
    }

    /**
     * A file xensnap is about to make is recorded by the mark written before it; it stays recorded, whichever catalog
     * is written back, until it is gone; and a first operation's undo that could not remove it keeps the catalog.
     */
    @Test
    void aMadeFileStaysRecordedUntilItIsGone(@TempDir Path images) throws Exception {
        CatalogStore store = new CatalogStore(state);
        Path overlay = images.resolve("a.s1.qcow2");
        DomainCatalog before = DomainCatalog.empty(UUID);
        DomainCatalog marked = before.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.CREATE,
                "s1", Instant.parse("2026-11-26T04:00:00Z"), "", List.of(new DiskSnapshot("xvda",
                SnapshotKind.EXTERNAL, images.resolve("a.qcow2"), DiskFormat.QCOW2, overlay)))));
        store.save(marked);
        assertThat(new CatalogStore(state).load(UUID).made()).as("recorded before it exists").containsExactly(overlay);

        // the operation made the file, then its undo writes back the catalog from before but cannot remove the file
        Files.writeString(overlay, "left");
        store.restore(before, false);
        assertThat(store.file(UUID)).as("kept for its record").exists();
        DomainCatalog after = new CatalogStore(state).load(UUID);
        assertThat(after.pending()).isEmpty();
        assertThat(after.made()).containsExactly(overlay);
        store.save(DomainCatalog.empty(UUID).withSnapshot(internal("s1", null), disks("/img/a.qcow2")));
        assertThat(new CatalogStore(state).load(UUID).made()).as("an older catalog written back").containsExactly(overlay);

        Files.delete(overlay);
        store.save(new CatalogStore(state).load(UUID));
        assertThat(new CatalogStore(state).load(UUID).made()).as("gone, so no longer recorded").isEmpty();
        store.restore(before, false);
        assertThat(store.file(UUID)).as("nothing left to record").doesNotExist();
    }

    private static List<DiskImage> disks(String top) {
        return List.of(new DiskImage("xvda", Path.of(top), DiskFormat.QCOW2));
    }

    private static SnapshotInfo internal(String name, String parent) {
        return new SnapshotInfo(UUID, name, "desc of " + name, Instant.parse("2026-11-26T04:00:00Z"), parent,
                List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null)));
    }

    private static SnapshotInfo external(String name, String parent) {
        return new SnapshotInfo(UUID, name, "", Instant.parse("2026-11-26T04:30:00.123456Z"), parent,
                List.of(new DiskSnapshot("xvda", SnapshotKind.EXTERNAL, Path.of("/img/a.qcow2"), DiskFormat.QCOW2,
                        Path.of("/img/a." + name + ".qcow2"))));
    }
}
