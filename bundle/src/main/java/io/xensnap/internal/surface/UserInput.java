package io.xensnap.internal.surface;

import static io.xensnap.api.Names.printable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotRequest;

/**
 * What people type at the console or into JConsole, turned into API values; the one translator every surface uses, so
 * one input gives one code whichever way it came in. The values refuse bad input in their constructors with
 * {@link IllegalArgumentException}; here that becomes {@link SnapshotError#INVALID_ARGUMENT} with the constructor's
 * message, and the messages never echo control characters or more than 80 characters of what was typed.
 *
 * <p>The disk spec is {@code vdev:internal}, {@code vdev:external} or {@code vdev:external:/abs/overlay.qcow2}, several
 * separated by commas; empty means every writable disk with the defaults. The path is everything after the second
 * colon (it may contain colons, not commas). Only spaces around an item or a part are ignored: a tab, newline or NUL
 * stays in the value, where the value refuses it. An empty item ({@code ,,}) and an empty path
 * ({@code xvda:external:}) are refused rather than read as "every disk" or "the default path": whoever typed them
 * meant something that is not there.
 *
 * <p>A domid is written as {@code xl list} shows it, without leading zeros: {@code 007} is refused, not read as 7.
 */
public final class UserInput {

    private UserInput() {
    }

    /** Something that builds a value and may refuse its input with {@link IllegalArgumentException}. */
    @FunctionalInterface
    public interface Builder<T> {
        T build();
    }

    /**
     * @return what {@code build} returns
     * @throws SnapshotException {@code INVALID_ARGUMENT} when it refuses its input (which includes a path the file
     *                           system cannot name, such as one with a NUL)
     */
    public static <T> T valid(Builder<T> build) throws SnapshotException {
        try {
            return build.build();
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, e.getMessage(), e);
        }
    }

    /** @return a running domain for a domid ({@code 7}), a shut-off one for a uuid */
    public static DomainRef domain(String text) throws SnapshotException {
        if (text == null || text.isBlank()) {
            throw invalid("the domain is missing: give its domid when it runs, its uuid when it is shut off");
        }
        String t = spaces(text);
        if (t.length() > 1 && t.matches("0[0-9]{1,4}")) {
            // a domid with leading zeros may be an octal number, or a typo of a longer one: naming a domain by a
            // guess would act on the wrong guest
            throw invalid("domid '" + printable(t) + "' has leading zeros; write it as 'xl list' shows it");
        }
        try {
            return DomainRef.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid("'" + printable(text.trim()) + "' is neither a domid (1 to 32751) nor a domain uuid: "
                    + e.getMessage(), e);
        }
    }

    /** @return the snapshot name, checked against {@link Names#snapshot(String)} */
    public static String snapshotName(String name) throws SnapshotException {
        return valid(() -> Names.snapshot(name));
    }

    /**
     * One disk of a create request, from its parts.
     *
     * @param vdev    e.g. {@code xvdb}
     * @param kind    {@code internal} or {@code external}, any case
     * @param overlay external only: the overlay's absolute path, or {@code null} for the default (empty is refused)
     * @param format  external only: the overlay's format, or {@code null}/empty for qcow2
     */
    public static DiskSpec disk(String vdev, String kind, String overlay, String format) throws SnapshotException {
        SnapshotKind k = kind(vdev, kind);
        if (overlay != null && spaces(overlay).isEmpty()) {
            throw invalid("disk " + printable(vdev) + ": the overlay path is empty; leave it out (" + printable(vdev)
                    + ":" + printable(kind) + ") for the default beside the image");
        }
        // DiskSpec refuses an overlay or format on an internal snapshot, so both are passed on as given
        return valid(() -> new DiskSpec(vdev, k, overlay == null ? null : Path.of(overlay),
                format == null || format.isEmpty() ? null : DiskFormat.of(format)));
    }

    /** @return one disk in the spec's one-item form: {@code vdev:internal}, {@code vdev:external[:PATH]} */
    public static DiskSpec disk(String item) throws SnapshotException {
        if (item == null) {
            throw invalid("the disk is missing");
        }
        String[] parts = item.split(":", 3);
        if (parts.length < 2) {
            throw invalid("disk '" + printable(spaces(item)) + "': expected vdev:internal, vdev:external or"
                    + " vdev:external:/path/to/overlay.qcow2");
        }
        if (parts.length == 3 && spaces(parts[1]).equalsIgnoreCase("internal")) {
            throw invalid("disk " + printable(spaces(parts[0])) + ": an internal snapshot has no overlay path");
        }
        return disk(spaces(parts[0]), spaces(parts[1]), parts.length == 3 ? spaces(parts[2]) : null, null);
    }

    /** @return the disks of a disk spec, empty for an empty spec */
    public static List<DiskSpec> disks(String spec) throws SnapshotException {
        List<DiskSpec> out = new ArrayList<>();
        if (spec == null || spaces(spec).isEmpty()) {
            return out;
        }
        String[] items = spec.split(",", -1);
        for (int i = 0; i < items.length; i++) {
            if (spaces(items[i]).isEmpty()) {
                throw invalid("disk spec '" + printable(spec) + "': item " + (i + 1) + " of " + items.length
                        + " is empty; name each disk once, or leave the whole spec empty for every disk");
            }
            out.add(disk(items[i]));
        }
        return out;
    }

    /** @return a create request from text; {@code disks} in the disk spec syntax */
    public static SnapshotRequest request(String domain, String name, String description, String disks)
            throws SnapshotException {
        return request(domain, name, description, disks, false, null);
    }

    /** @return a create request from text; {@code memory}: a domain snapshot, the running domain's memory too */
    public static SnapshotRequest request(String domain, String name, String description, String disks,
                                          boolean memory) throws SnapshotException {
        return request(domain, name, description, disks, memory, null);
    }

    /**
     * @param quiesce {@code never}, {@code try} or {@code require}; null or blank for the configured default
     * @return a create request from text; {@code disks} in the disk spec syntax
     */
    public static SnapshotRequest request(String domain, String name, String description, String disks,
                                          String quiesce) throws SnapshotException {
        return request(domain, name, description, disks, false, quiesce);
    }

    /**
     * @param memory  a domain snapshot: the running domain's memory too
     * @param quiesce {@code never}, {@code try} or {@code require}; null or blank for the configured default
     * @return a create request from text; {@code disks} in the disk spec syntax
     */
    public static SnapshotRequest request(String domain, String name, String description, String disks,
                                          boolean memory, String quiesce) throws SnapshotException {
        DomainRef ref = domain(domain);
        String n = snapshotName(name);
        List<DiskSpec> specs = disks(disks);
        QuiescePolicy policy = quiesce(quiesce);
        return valid(() -> new SnapshotRequest(ref, n, description, specs, memory, policy));
    }

    /** @return the policy, null for null or an empty text (the configured default) */
    public static QuiescePolicy quiesce(String text) throws SnapshotException {
        if (text == null || spaces(text).isEmpty()) {
            return null;
        }
        return valid(() -> QuiescePolicy.of(spaces(text)));
    }

    /** @return the disks of a snapshot in the disk spec syntax, e.g. {@code xvda:internal,xvdb:external:/img/o.qcow2} */
    public static String describe(List<DiskSnapshot> disks) {
        List<String> parts = new ArrayList<>();
        for (DiskSnapshot d : disks) {
            parts.add(d.kind() == SnapshotKind.INTERNAL ? d.vdev() + ":internal"
                    : d.vdev() + ":external:" + d.overlay());
        }
        return String.join(",", parts);
    }

    private static SnapshotKind kind(String vdev, String kind) throws SnapshotException {
        if (kind != null) {
            switch (kind.toLowerCase(Locale.ROOT)) {
                case "internal":
                    return SnapshotKind.INTERNAL;
                case "external":
                    return SnapshotKind.EXTERNAL;
                default:
                    break;
            }
        }
        throw invalid("disk " + printable(vdev) + ": '" + printable(kind) + "' is not a kind; use internal or external");
    }

    /** {@link String#strip()} would also take tabs and newlines, which must reach the values and be refused there. */
    private static String spaces(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && s.charAt(from) == ' ') {
            from++;
        }
        while (to > from && s.charAt(to - 1) == ' ') {
            to--;
        }
        return s.substring(from, to);
    }

    private static SnapshotException invalid(String message) {
        return new SnapshotException(SnapshotError.INVALID_ARGUMENT, message);
    }

    private static SnapshotException invalid(String message, Throwable cause) {
        return new SnapshotException(SnapshotError.INVALID_ARGUMENT, message, cause);
    }
}
