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
        Stats[] both = compare(dir, n);
        System.out.printf("catalog save (journal, rewrites included): %s ms%n", both[0].cell());
        System.out.printf("atomic write (before the journal):         %s ms%n", both[1].cell());
    }

    /**
     * {@code n} saves, a pending mark and a finished catalog in turn, each followed by the atomic write of the same
     * catalog's bytes into another directory, so that both see the same load of the machine; {@code n / 10} of
     * each unmeasured first.
     *
     * @return the saves' times, then the atomic writes'
     */
    static Stats[] compare(Path state, int n) throws Exception {
        CatalogStore store = new CatalogStore(Files.createDirectories(state.resolve("journal")));
        // a store's first save writes the catalog file itself: its bytes are what the old save wrote
        byte[][] bytes = new byte[2][];
        for (int k = 0; k < 2; k++) {
            CatalogStore once = new CatalogStore(Files.createDirectories(state.resolve("bytes-" + k)));
            once.save(catalog(k));
            bytes[k] = Files.readAllBytes(once.file(UUID));
        }
        Path f = new CatalogStore(state.resolve("atomic")).file(UUID);
        List<Long> saves = new ArrayList<>();
        List<Long> atomic = new ArrayList<>();
        for (int i = 0; i < n + n / 10; i++) {
            DomainCatalog c = catalog(i);
            long t0 = System.nanoTime();
            store.save(c);
            long t1 = System.nanoTime();
            atomicWrite(f.getParent(), f, bytes[i % 2]);
            long t2 = System.nanoTime();
            if (i >= n / 10) {
                saves.add(t1 - t0);
                atomic.add(t2 - t1);
            }
        }
        return new Stats[] {Stats.ofNanos(saves), Stats.ofNanos(atomic)};
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
