package io.xensnap.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;

/**
 * What people type at the console or into JConsole, turned into API values. Every refusal is a
 * {@link SnapshotError#INVALID_ARGUMENT} that says what was expected, so both surfaces answer bad input alike.
 *
 * <p>The disk spec is {@code vdev:internal}, {@code vdev:external} or {@code vdev:external:/abs/overlay.qcow2}, several
 * separated by commas; empty means every writable disk with the defaults. A path cannot contain a comma here.
 */
public final class UserInput {

    private UserInput() {
    }

    /** @return a running domain for a domid ({@code 7}), a shut-off one for a uuid */
    public static DomainRef domain(String text) throws SnapshotException {
        if (text == null || text.isBlank()) {
            throw invalid("the domain is missing: give its domid when it runs, its uuid when it is shut off");
        }
        try {
            return DomainRef.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid("'" + text.trim() + "' is neither a domid (1 to 32751) nor a domain uuid: " + e.getMessage());
        }
    }

    /** @return the snapshot name, checked against {@link Names#snapshot(String)} */
    public static String snapshotName(String name) throws SnapshotException {
        try {
            return Names.snapshot(name);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    /** @return the disks of a disk spec, empty for an empty spec */
    public static List<DiskSpec> disks(String spec) throws SnapshotException {
        List<DiskSpec> out = new ArrayList<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String item : spec.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            String[] parts = item.trim().split(":", 3);
            if (parts.length < 2) {
                throw invalid("disk '" + item.trim() + "': expected vdev:internal, vdev:external or"
                        + " vdev:external:/path/to/overlay.qcow2");
            }
            String vdev = parts[0].trim();
            String kind = parts[1].trim().toLowerCase(Locale.ROOT);
            try {
                switch (kind) {
                    case "internal" -> {
                        if (parts.length == 3) {
                            throw invalid("disk " + vdev + ": an internal snapshot has no overlay path");
                        }
                        out.add(DiskSpec.internal(vdev));
                    }
                    case "external" -> out.add(DiskSpec.external(vdev,
                            parts.length == 3 && !parts[2].isBlank() ? Path.of(parts[2].trim()) : null));
                    default -> throw invalid("disk " + vdev + ": '" + parts[1].trim()
                            + "' is not a kind; use internal or external");
                }
            } catch (IllegalArgumentException e) {
                throw invalid(e.getMessage());
            }
        }
        return out;
    }

    /** @return a create request from text; {@code disks} in the disk spec syntax */
    public static SnapshotRequest request(String domain, String name, String description, String disks)
            throws SnapshotException {
        DomainRef ref = domain(domain);
        String n = snapshotName(name);
        List<DiskSpec> specs = disks(disks);
        try {
            return new SnapshotRequest(ref, n, description, specs);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
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

    private static SnapshotException invalid(String message) {
        return new SnapshotException(SnapshotError.INVALID_ARGUMENT, message);
    }
}
