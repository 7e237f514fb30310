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
        DomainCatalog before = catalog(0);
        store.save(before);
        DomainCatalog marked = catalog(1);
        store.save(marked);
        Path journal = store.journalFile(UUID);
        Path kept = state.resolve("kept.journal");
        Files.copy(journal, kept);

        // the undo writes back what was there before: a rewrite, since one record fills this journal
        store.save(before);
        assertThat(journal).doesNotExist();
        Files.copy(kept, journal);

        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(before);
        store.save(catalog(2));
        assertThat(new CatalogStore(state).load(UUID)).isEqualTo(catalog(2));
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

    /** A catalog that differs from the others by its name and by a snapshot. */
    private static DomainCatalog catalog(int i) {
        return DomainCatalog.empty(UUID).withName("vm" + i).withSnapshot(new SnapshotInfo(UUID, "s" + i, "", Instant
                .EPOCH, null, List.of(new DiskSnapshot("xvda", SnapshotKind.INTERNAL, Path.of("/img/a.qcow2"),
                DiskFormat.QCOW2, null))), List.of(new DiskImage("xvda", Path.of("/img/a.qcow2"), DiskFormat.QCOW2)));
    }
}
