package io.xensnap.internal.shell;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;

import java.io.PrintStream;
import java.util.List;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.internal.surface.Visible;

/** Short texts for the console; paths and free text escaped ({@link Visible}). */
final class Describe {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Describe() {
    }

    static String time(TemporalAccessor t) {
        return TIME.format(t);
    }

    /**
     * @return e.g. {@code 320 KiB}, {@code ~1.5 GiB} for an estimate, {@code ?} when unknown: binary units, one decimal
     *         from MiB on, so a count of clusters stays readable
     */
    static String space(SnapshotSpace.Accuracy accuracy, long bytes) {
        if (accuracy == SnapshotSpace.Accuracy.UNKNOWN) {
            return "?";
        }
        return (accuracy == SnapshotSpace.Accuracy.ESTIMATE ? "~" : "") + bytes(bytes);
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return (bytes / 1024) + " KiB";
        }
        String[] units = {"MiB", "GiB", "TiB", "PiB"};
        double v = bytes / (1024.0 * 1024);
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** @return e.g. {@code xvda internal} or {@code xvdb external → /img/b.s1.qcow2} */
    /** @return {@code yes (guest frozen 12 ms)} or {@code no}, with the frozen time of a freeze that did not cover it */
    static String quiesced(io.xensnap.api.SnapshotInfo s) {
        if (s.quiesced()) {
            return "yes (guest frozen " + s.frozen().toMillis() + " ms)";
        }
        return s.frozen().isZero() ? "no" : "no (the guest was thawed during the snapshot after "
                + s.frozen().toMillis() + " ms)";
    }

    /** @return the frozen time in ms for a quiesced snapshot, {@code -} otherwise: the list's column */
    static String frozen(io.xensnap.api.SnapshotInfo s) {
        return s.quiesced() ? s.frozen().toMillis() + " ms" : "-";
    }

    static String disk(DiskSnapshot d) {
        return d.kind() == SnapshotKind.INTERNAL ? d.vdev() + " internal"
                : d.vdev() + " external → " + Visible.text(d.overlay());
    }

    /** @return e.g. {@code memory 201733935 bytes → /var/lib/xensnap/memory/<uuid>/s1.xlsave} */
    static String memory(MemoryImage m) {
        return "memory " + m.sizeBytes() + " bytes → " + Visible.text(m.image());
    }

    /**
     * Prints the image each disk must be started from, after an operation on a shut-off domain that moved a disk to
     * a new image: nothing else will tell the domain's xl config.
     */
    static void startFrom(PrintStream out, List<DiskImage> disks) {
        for (DiskImage d : disks) {
            out.println("  " + d.vdev() + "  " + Visible.text(d.image()) + " (" + d.format().id() + ")");
        }
    }
}
