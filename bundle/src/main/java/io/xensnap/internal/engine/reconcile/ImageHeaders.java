package io.xensnap.internal.engine.reconcile;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.xensnap.internal.qemuimg.ImageFile;
import io.xensnap.internal.qemuimg.ImageInfo;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qemuimg.QemuImgException;

/**
 * Image headers as qemu-img reads them, read-only and sharing locks ({@code -U}), so that they can be read while a
 * QEMU holds the image; each file once per reconcile run.
 */
final class ImageHeaders {

    private final QemuImg qemuImg;
    private final Map<Path, ImageInfo> infos = new HashMap<>();

    ImageHeaders(QemuImg qemuImg) {
        this.qemuImg = qemuImg;
    }

    /** @return the header of {@code file} read as {@code format}, empty when the file does not exist */
    Optional<ImageInfo> info(Path file, String format) throws QemuImgException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        ImageInfo cached = infos.get(file);
        if (cached != null && cached.format().equals(format)) {
            return Optional.of(cached);
        }
        ImageInfo info = qemuImg.info(new ImageFile(file, format), true);
        infos.put(file, info);
        return Optional.of(info);
    }

    /** @return the files of {@code top}'s backing chain as the headers name them, top first */
    List<Path> chain(Path top, String format) throws QemuImgException {
        return qemuImg.backingChain(new ImageFile(top, format), true).stream().map(i -> Path.of(i.filename())).toList();
    }

    /** @return the headers of {@code top}'s backing chain, top first, each with its own internal snapshots */
    List<ImageInfo> layers(Path top, String format) throws QemuImgException {
        return qemuImg.backingChain(new ImageFile(top, format), true);
    }

    /** @return whether the top layer of the qcow2 {@code file} holds data of its own */
    boolean holdsData(Path file) throws QemuImgException {
        return qemuImg.holdsData(new ImageFile(file, "qcow2"), true);
    }

    /** @return the backing file the qcow2 header of {@code file} names (resolved), empty when it has none */
    Optional<Path> backing(Path file) throws QemuImgException {
        return info(file, "qcow2").flatMap(ImageInfo::fullBackingFilename).map(Path::of);
    }

    /** Forgets what was read about {@code file}, after a repair changed it. */
    void forget(Path file) {
        infos.remove(file);
    }
}
