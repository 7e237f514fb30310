package io.xensnap.internal.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;

/** The catalog's journal: what a save costs, and what a crash at each point of a save leaves. */
class CatalogJournalTest {

    private static final String UUID = "2b5a4c1e-1111-4222-8333-944455556666";

    @TempDir
    Path state;

    /** Counts every flush the store asks for; a data flush may be told to fail, as fdatasync fails with EIO. */
    static final class CountingFlushes extends Flushes {
        final List<String> calls = new ArrayList<>();
        IOException failData;

        @Override
        void data(FileChannel ch) throws IOException {
            calls.add("fdatasync");
            if (failData != null) {
                throw failData;
            }
            super.data(ch);
        }

        @Override
        void file(FileChannel ch) throws IOException {
            calls.add("fsync");
            super.file(ch);
        }

        @Override
        void directory(Path dir) throws IOException {
            calls.add("fsync of the directory");
            super.directory(dir);
        }

        List<String> take() {
            List<String> out = List.copyOf(calls);
            calls.clear();
            return out;
        }
    }

    @Test
    void aSaveOnAJournalCostsOneFdatasyncAndNothingElse() throws Exception {
        CountingFlushes flushes = new CountingFlushes();
        CatalogStore store = new CatalogStore(state, flushes, CatalogStore.COMPACT_AFTER);
        store.save(catalog(0));
        assertThat(flushes.take()).as("the first save writes the catalog file")
                .containsExactly("fsync", "fsync of the directory");
        store.save(catalog(1));
        assertThat(flushes.take()).as("the next one starts the journal: a new name")
                .containsExactly("fdatasync", "fsync of the directory");
        // a create's pending mark and the catalog after it, again and again: one flush each
        for (int i = 2; i <= CatalogStore.COMPACT_AFTER; i++) {
            DomainCatalog c = i % 2 == 0 ? marked(i) : catalog(i);
            store.save(c);
            assertThat(flushes.take()).as("save " + i).containsExactly("fdatasync");
            assertThat(new CatalogStore(state).load(UUID)).as("durable once save " + i + " returned").isEqualTo(c);
        }
        store.save(catalog(99));
        assertThat(flushes.take()).as("the save after " + CatalogStore.COMPACT_AFTER + " records rewrites the file")
                .containsExactly("fsync", "fsync of the directory");
        assertThat(store.journalFile(UUID)).as("folded into the catalog file").doesNotExist();
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(99));
    }

    @Test
    void aResultAfterADurableMarkIsAppendedWithoutAFlushAndTheNextSaveFlushesIt() throws Exception {
        CountingFlushes flushes = new CountingFlushes();
        CatalogStore store = new CatalogStore(state, flushes, CatalogStore.COMPACT_AFTER);
        store.save(catalog(0));
        store.save(catalog(1));
        store.save(marked(2));
        flushes.take();

        store.saveResult(catalog(2));
        assertThat(flushes.take()).as("the result after a mark").isEmpty();
        assertThat(new CatalogStore(state).load(UUID)).as("written, in the page cache").isEqualTo(catalog(2));
        // what a power loss before the write-back leaves: the result's record gone, the mark the last one
        Path journal = store.journalFile(UUID);
        byte[] whole = Files.readAllBytes(journal);
        Files.write(journal, java.util.Arrays.copyOf(whole, whole.length - CatalogJournal.BLOCK));
        assertThat(new CatalogStore(state).load(UUID)).as("the mark, for reconcile to finish").isEqualTo(marked(2));
        Files.write(journal, whole);

        store.saveResult(catalog(3));
        assertThat(flushes.take()).as("a result over a catalog without a mark is flushed")
                .containsExactly("fdatasync");
        store.save(marked(4));
        assertThat(flushes.take()).as("the next save flushes the journal, the result with it")
                .containsExactly("fdatasync");
    }

    @Test
    void aTornTailIsIgnoredAndTheNextAppendReplacesIt() throws Exception {
        CatalogStore store = new CatalogStore(state);
        for (int i = 0; i < 4; i++) {
            store.save(catalog(i));
        }
        Path journal = store.journalFile(UUID);
        byte[] whole = Files.readAllBytes(journal);
        int last = whole.length - CatalogJournal.BLOCK;

        // a crash cut the last append in its payload
        Files.write(journal, java.util.Arrays.copyOf(whole, last + 100));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(2));
        // ... or in its length
        Files.write(journal, java.util.Arrays.copyOf(whole, last + 2));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(2));
        // one flipped bit of its CRC
        byte[] flipped = whole.clone();
        flipped[last + 5] ^= 1;
        Files.write(journal, flipped);
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(2));
        // one of its payload
        flipped = whole.clone();
        flipped[last + 20] ^= 1;
        Files.write(journal, flipped);
        CatalogStore after = new CatalogStore(state);
        assertThat(after.load(UUID)).isEqualTo(catalog(2));

        after.save(catalog(4));
        assertThat(Files.size(journal)).as("written over the torn record").isEqualTo(whole.length);
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(4));
    }

    @Test
    void aTornHeaderLeavesTheCatalogFile() throws Exception {
        CatalogStore store = new CatalogStore(state);
        store.save(catalog(0));
        store.save(catalog(1));
        Path journal = store.journalFile(UUID);
        byte[] whole = Files.readAllBytes(journal);
        Files.write(journal, java.util.Arrays.copyOf(whole, 20));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(0));
        byte[] flipped = whole.clone();
        flipped[9] ^= 1;
        Files.write(journal, flipped);
        CatalogStore after = new CatalogStore(state);
        assertThat(after.load(UUID)).isEqualTo(catalog(0));

        after.save(catalog(2));
        assertThat(new CatalogStore(state).load(UUID)).as("a new journal in its place").isEqualTo(catalog(2));
    }

    /**
     * A crash after a rewrite's rename and before its journal is gone keeps that journal; it names the older
     * catalog file and no longer counts, even when the catalog saved is the very one the journal began on.
     */
    @Test
    void aJournalKeptByACrashDuringARewriteNoLongerCounts() throws Exception {
        CatalogStore store = new CatalogStore(state, new Flushes(), 1);
        DomainCatalog first = marked(0);
        store.save(first);
        store.save(marked(1));
        store.save(marked(2));
        Path journal = store.journalFile(UUID);
        Path kept = state.resolve("kept.journal");
        Files.copy(journal, kept);

        // under a mark the journal is full at twice one record: the save of the first catalog again is a rewrite
        store.save(first);
        assertThat(journal).doesNotExist();
        Files.copy(kept, journal);

        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(first);
        store.save(catalog(3));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(3));
    }

    /** An operation's undo writes back the catalog from before it: the files are then what they were, byte for byte. */
    @Test
    void anUndoCutsTheJournalBackToWhatItWas() throws Exception {
        CountingFlushes flushes = new CountingFlushes();
        CatalogStore store = new CatalogStore(state, flushes, CatalogStore.COMPACT_AFTER);
        store.save(catalog(0));
        Map<Path, String> onlyTheFile = files();
        store.save(marked(1));
        store.save(marked(1).withName("vm1b"));
        flushes.take();
        store.restore(catalog(0), true);
        assertThat(flushes.take()).as("the journal this operation started is removed")
                .containsExactly("fsync of the directory");
        assertThat(files()).isEqualTo(onlyTheFile);

        store.save(catalog(2));
        store.save(catalog(3));
        Map<Path, String> withJournal = files();
        store.save(marked(4));
        store.save(marked(4).withName("vm4b"));
        flushes.take();
        store.save(catalog(3));
        assertThat(flushes.take()).as("cut back: one flush").containsExactly("fdatasync");
        assertThat(files()).isEqualTo(withJournal);
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(3));
        store.save(catalog(5));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(5));
    }

    /** @return every file of the catalog directory with its bytes (as text, so that the maps compare by content) */
    private Map<Path, String> files() throws IOException {
        Map<Path, String> out = new TreeMap<>();
        try (var s = Files.list(state.resolve("domains"))) {
            for (Path p : s.toList()) {
                out.put(p, new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    @Test
    void aCrashBetweenAppendsAndTheRewriteLoadsTheNewestAndTheRewriteEqualsIt() throws Exception {
        CatalogStore store = new CatalogStore(state, new Flushes(), 3);
        for (int i = 0; i < 4; i++) {
            store.save(catalog(i));
        }
        assertThat(store.journalFile(UUID)).exists();
        assertThat(new CatalogJson().read(Files.readAllBytes(store.file(UUID)), 0,
                (int) Files.size(store.file(UUID))).catalog()).as("the catalog file is older").isEqualTo(catalog(0));
        assertThat(new CatalogStore(state).load(UUID)).as("a process started now").isEqualTo(catalog(3));

        store.save(catalog(4));
        assertThat(store.journalFile(UUID)).doesNotExist();
        byte[] file = Files.readAllBytes(store.file(UUID));
        assertThat(new CatalogJson().read(file, 0, file.length).catalog()).isEqualTo(catalog(4));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(4));
        try (var s = Files.list(state.resolve("domains"))) {
            assertThat(s).containsExactly(store.file(UUID));
        }
    }

    @Test
    void anotherWriterReplacingTheCatalogFileIsSeenAndTheJournalNoLongerCounts() throws Exception {
        CatalogStore store = new CatalogStore(state);
        store.save(catalog(0));
        store.save(catalog(1));
        assertThat(store.load(UUID)).isEqualTo(catalog(1));

        // an operator's editor writes a copy and renames it over the catalog file
        Path edited = state.resolve("domains/edited");
        Files.write(edited, new CatalogJson().write(catalog(7), 0));
        Files.move(edited, store.file(UUID), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertThat(store.load(UUID)).isEqualTo(catalog(7));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(7));

        store.save(catalog(8));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(8));
        assertThat(Files.readAllBytes(store.file(UUID))).as("continued by a new journal, not rewritten")
                .isEqualTo(new CatalogJson().write(catalog(7), 0));
    }

    @Test
    void restoreWritesBackOverTheJournalOrRemovesBothFiles() throws Exception {
        CatalogStore store = new CatalogStore(state);
        DomainCatalog marked = catalog(0).withPending(Optional.of(new PendingOperation(PendingOperation.Kind.CREATE,
                "s1", Instant.parse("2026-12-07T10:00:00Z"))));
        store.save(marked);
        store.save(catalog(1));
        store.save(marked.withName("vm2"));
        store.restore(catalog(1), true);
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(1));

        store.restore(catalog(1), false);
        assertThat(store.file(UUID)).doesNotExist();
        assertThat(store.journalFile(UUID)).doesNotExist();
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(DomainCatalog.empty(UUID));
        assertThat(store.uuids()).isEmpty();
    }

    @Test
    void aFailedAppendLeavesTheJournalAsItWas() throws Exception {
        CountingFlushes flushes = new CountingFlushes();
        CatalogStore store = new CatalogStore(state, flushes, CatalogStore.COMPACT_AFTER);
        store.save(catalog(0));
        store.save(catalog(1));
        byte[] journal = Files.readAllBytes(store.journalFile(UUID));
        flushes.failData = new IOException("Input/output error");
        assertThatThrownBy(() -> store.save(catalog(2))).isInstanceOf(CatalogException.class)
                .hasMessageContaining("cannot be written").hasMessageContaining("Input/output error");
        assertThat(Files.readAllBytes(store.journalFile(UUID))).isEqualTo(journal);
        assertThat(store.load(UUID)).isEqualTo(catalog(1));

        flushes.failData = null;
        store.save(catalog(3));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(3));
    }

    private static DomainCatalog marked(int i) {
        return catalog(i).withPending(Optional.of(new PendingOperation(PendingOperation.Kind.CREATE, "n" + i,
                Instant.parse("2026-12-07T10:00:00Z"), "", List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL,
                Path.of("/img/a.qcow2"), DiskFormat.QCOW2, null)))));
    }

    @Test
    void aPersonFindsEachRecordOnALineOfItsOwn() throws Exception {
        CatalogStore store = new CatalogStore(state);
        for (int i = 0; i < 3; i++) {
            store.save(i == 1 ? marked(i) : catalog(i));
        }
        // what grep -a '^{' prints
        List<String> lines = new String(Files.readAllBytes(store.journalFile(UUID)),
                java.nio.charset.StandardCharsets.ISO_8859_1).lines().filter(l -> l.startsWith("{")).toList();
        assertThat(lines).hasSize(2);
        byte[] last = lines.get(1).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        CatalogJson.Read newest = new CatalogJson().read(last, 0, last.length);
        assertThat(newest.catalog()).isEqualTo(catalog(2));
        byte[] file = Files.readAllBytes(store.file(UUID));
        assertThat(newest.generation()).as("the same generation as the file it continues")
                .isEqualTo(new CatalogJson().read(file, 0, file.length).generation()).isEqualTo(1);
    }

    /** A catalog that differs from the others by its name and by a snapshot. */
    private static DomainCatalog catalog(int i) {
        return DomainCatalog.empty(UUID).withName("vm" + i).withSnapshot(new SnapshotInfo(UUID, "s" + i, "", Instant
                .EPOCH, null, List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"),
                DiskFormat.QCOW2, null))), List.of(new DiskImage("xvda", Path.of("/img/a.qcow2"), DiskFormat.QCOW2)));
    }
}
