package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;

/**
 * Builds the API's values from the strings a surface receives (console arguments, JMX parameters). The values refuse
 * bad input in their constructors with {@link IllegalArgumentException}; here that becomes the one error model,
 * {@link SnapshotError#INVALID_ARGUMENT}, with the constructor's message. Every surface goes through this class, so
 * one input gives one code whichever way it came in.
 */
public final class Requests {

    private Requests() {
    }

    /** Something that builds a value and may refuse the input. */
    @FunctionalInterface
    public interface Builder<T> {
        T build();
    }

    /**
     * @return what {@code build} returns
     * @throws SnapshotException {@code INVALID_ARGUMENT} when it refuses its input ({@link IllegalArgumentException},
     *                           which includes a path the file system cannot name, such as one with a NUL)
     */
    public static <T> T valid(Builder<T> build) throws SnapshotException {
        try {
            return build.build();
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, e.getMessage(), e);
        }
    }

    /** @return a running domain for a domid, a shut-off one (disks from the catalog) for a uuid */
    public static DomainRef domain(String text) throws SnapshotException {
        return valid(() -> DomainRef.parse(text));
    }

    /** @return a snapshot name that follows {@link Names#snapshot(String)} */
    public static String name(String text) throws SnapshotException {
        return valid(() -> Names.snapshot(text));
    }

    /**
     * One disk of a create request.
     *
     * @param vdev    e.g. {@code xvdb}
     * @param kind    {@code internal} or {@code external}, any case
     * @param overlay external only: the overlay's absolute path, or {@code null}/empty for the default
     * @param format  external only: the overlay's format, or {@code null}/empty for qcow2
     */
    public static DiskSpec disk(String vdev, String kind, String overlay, String format) throws SnapshotException {
        // DiskSpec refuses an overlay or format on an internal snapshot, so both are passed on as given
        return valid(() -> new DiskSpec(vdev, kind(kind), overlay == null || overlay.isEmpty() ? null : Path.of(overlay),
                format == null || format.isEmpty() ? null : DiskFormat.of(format)));
    }

    /**
     * One disk in the console's one-word form: {@code VDEV:internal}, {@code VDEV:external} or
     * {@code VDEV:external:PATH} (the path is everything after the second colon, so it may contain colons).
     */
    public static DiskSpec disk(String text) throws SnapshotException {
        if (text == null) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, "disk is missing");
        }
        String[] parts = text.split(":", 3);
        if (parts.length < 2) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, "disk '" + printable(text)
                    + "': expected VDEV:internal, VDEV:external or VDEV:external:PATH");
        }
        return disk(parts[0], parts[1], parts.length == 3 ? parts[2] : null, null);
    }

    /**
     * @param disks each in {@link #disk(String)}'s form; empty means every disk with the defaults
     * @return a create request
     */
    public static SnapshotRequest create(String domain, String name, String description, List<String> disks)
            throws SnapshotException {
        DomainRef ref = domain(domain);
        List<DiskSpec> specs = new ArrayList<>();
        for (String d : disks == null ? List.<String>of() : disks) {
            specs.add(disk(d));
        }
        return valid(() -> new SnapshotRequest(ref, name, description, specs));
    }

    private static SnapshotKind kind(String kind) {
        if (kind != null) {
            switch (kind.trim().toLowerCase(Locale.ROOT)) {
                case "internal":
                    return SnapshotKind.INTERNAL;
                case "external":
                    return SnapshotKind.EXTERNAL;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("snapshot kind '" + printable(kind) + "': expected internal or external");
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        String shown = s.replaceAll("\\p{Cntrl}", "?");
        return shown.length() > 80 ? shown.substring(0, 80) + "…(" + s.length() + " chars)" : shown;
    }
}
