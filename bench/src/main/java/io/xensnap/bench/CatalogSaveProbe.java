package io.xensnap.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;

/**
 * The cost of one catalog save alone, as a create makes two (its pending mark, then the catalog after it), against
 * the atomic write each save was before the catalog had a journal: temp file, fsync, rename, fsync of the directory,
 * done here with the same calls on the same bytes. Runs inside the create bench, or alone:
 * {@code java -cp bench/target/classes:bench/target/lib/* io.xensnap.bench.CatalogSaveProbe <dir on the disk> [runs]}.
 */
final class CatalogSaveProbe {

    private static final String UUID = BenchHost.uuid(999);

    private CatalogSaveProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "bench/target/catalog-probe"));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Stats save = saves(dir.resolve("journal"), n);
        Stats atomic = atomicWrites(dir.resolve("atomic"), n);
        System.out.printf("catalog save (journal, rewrites included): %s ms%n", save.cell());
        System.out.printf("atomic write (before the journal):         %s ms%n", atomic.cell());
    }

    /** {@code n} saves, a pending mark and a finished catalog in turn, after {@code n / 10} unmeasured ones. */
    static Stats saves(Path state, int n) throws Exception {
        CatalogStore store = new CatalogStore(Files.createDirectories(state));
        List<Long> ns = new ArrayList<>();
        for (int i = 0; i < n + n / 10; i++) {
            DomainCatalog c = catalog(i);
            long t0 = System.nanoTime();
            store.save(c);
            if (i >= n / 10) {
                ns.add(System.nanoTime() - t0);
            }
        }
        return Stats.ofNanos(ns);
    }

    /** The same catalogs' bytes, each written as a save wrote it before the journal. */
    static Stats atomicWrites(Path state, int n) throws Exception {
        // a store's first save writes the catalog file itself: its bytes are what the old save wrote
        byte[][] bytes = new byte[2][];
        for (int k = 0; k < 2; k++) {
            CatalogStore once = new CatalogStore(Files.createDirectories(state.resolve("bytes-" + k)));
            once.save(catalog(k));
            bytes[k] = Files.readAllBytes(once.file(UUID));
        }
        Path f = new CatalogStore(state).file(UUID);
        List<Long> ns = new ArrayList<>();
        for (int i = 0; i < n + n / 10; i++) {
            long t0 = System.nanoTime();
            atomicWrite(f.getParent(), f, bytes[i % 2]);
            if (i >= n / 10) {
                ns.add(System.nanoTime() - t0);
            }
        }
        return Stats.ofNanos(ns);
    }

    private static void atomicWrite(Path dir, Path f, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + f.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** A small catalog as a create leaves it, with its pending mark on even {@code i}. */
    private static DomainCatalog catalog(int i) {
        Path a = Path.of("/var/lib/xen/images/vm999/disk0.qcow2");
        DomainCatalog c = new DomainCatalog(UUID, "vm999", null, List.of(new DiskImage("xvda", a, DiskFormat.QCOW2)),
                Optional.empty(), List.of());
        if (i % 2 == 0) {
            c = c.withPending(Optional.of(new PendingOperation(PendingOperation.Kind.CREATE, "s" + i,
                    Instant.parse("2026-12-07T10:00:00Z"), "", List.of(new DiskSnapshot("xvda",
                    SnapshotKind.INTERNAL, a, DiskFormat.QCOW2, null)))));
        }
        return c;
    }
}
