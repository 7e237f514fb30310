package io.xensnap.internal.qemuimg;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One image layer as {@code qemu-img info --output=json} describes it.
 *
 * @param filename            as qemu-img printed it
 * @param format              the format driver ({@code qcow2}, {@code raw})
 * @param virtualSize         guest-visible size in bytes
 * @param actualSize          bytes allocated on the host
 * @param backingFilename     the backing file as written in the header, if any
 * @param fullBackingFilename the backing file resolved against this image's directory, if any
 * @param backingFormat       the backing format from the header, if any
 * @param dirty               the dirty flag (lazy refcounts not flushed)
 * @param corrupt             qcow2's corrupt flag
 * @param snapshots           the internal snapshots of this layer only
 */
public record ImageInfo(String filename, String format, long virtualSize, long actualSize,
                        Optional<String> backingFilename, Optional<String> fullBackingFilename,
                        Optional<String> backingFormat, boolean dirty, boolean corrupt, List<ImageSnapshot> snapshots) {

    public ImageInfo {
        Objects.requireNonNull(filename, "filename");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(backingFilename, "backingFilename");
        Objects.requireNonNull(fullBackingFilename, "fullBackingFilename");
        Objects.requireNonNull(backingFormat, "backingFormat");
        snapshots = List.copyOf(snapshots);
    }

    /** @return the snapshots of this layer named {@code name} (qemu-img allows duplicates) */
    public List<ImageSnapshot> snapshotsNamed(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).toList();
    }
}
