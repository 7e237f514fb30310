package io.xensnap.internal.engine.space;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import io.xensnap.internal.qemuimg.Qcow2Tables;

/**
 * The images one count reads, each opened and each table read once however many snapshots and disks share it (an
 * image holds every internal snapshot of its disk; an overlay is one snapshot's and the next one's frozen image).
 */
final class ImageTables implements AutoCloseable {

    /** An image's tables, or why it could not be read. */
    record Opened(Optional<Qcow2Tables> tables, String failure) {
    }

    private final Map<Path, Opened> opened = new HashMap<>();
    private final Map<Path, Map<String, Qcow2Tables.Layer>> layers = new HashMap<>();

    Opened open(Path image) {
        return opened.computeIfAbsent(image, p -> {
            try {
                return new Opened(Optional.of(Qcow2Tables.open(p)), "");
            } catch (NoSuchFileException e) {
                return new Opened(Optional.empty(), p + " does not exist");
            } catch (IOException e) {
                return new Opened(Optional.empty(), "cannot read " + p + ": " + e.getMessage());
            }
        });
    }

    /** @return the layer of the snapshot called {@code snapshot}, or the active one for {@code null} */
    Qcow2Tables.Layer layer(Path image, Qcow2Tables tables, Qcow2Tables.Snapshot snapshot) throws IOException {
        Map<String, Qcow2Tables.Layer> of = layers.computeIfAbsent(image, p -> new HashMap<>());
        // snapshot ids are unique in an image, names need not be; "" is never an id QEMU gives
        String key = snapshot == null ? "" : snapshot.id();
        Qcow2Tables.Layer l = of.get(key);
        if (l == null) {
            l = snapshot == null ? tables.active() : tables.layer(snapshot);
            of.put(key, l);
        }
        return l;
    }

    /**
     * Closes every image opened here, all of them even when one fails.
     *
     * @throws UncheckedIOException the first close that failed (later ones suppressed in it); nothing was written,
     *                              but a descriptor that cannot be closed is a fault of the host worth seeing
     */
    @Override
    public void close() {
        IOException first = null;
        for (Opened o : opened.values()) {
            if (o.tables().isEmpty()) {
                continue;
            }
            try {
                o.tables().get().close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw new UncheckedIOException("cannot close an image read for its space", first);
        }
    }
}
