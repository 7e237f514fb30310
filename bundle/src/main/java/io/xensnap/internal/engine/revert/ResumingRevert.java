package io.xensnap.internal.engine.revert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.SavedDomainConfig;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;
import io.xensnap.internal.xl.SaveImageDigest;
import io.xensnap.internal.xl.SaveImageException;
import io.xensnap.internal.xl.SaveImageHeader;

/**
 * Revert to a domain snapshot: the domain runs again from the snapshot's instant. A running domain is destroyed (what
 * it did since is what a revert throws away), its disks go back with the offline {@link Revert}, and {@code xl restore}
 * starts it from the save image.
 *
 * <p>The image's header carries libxl's config as it was at the snapshot's instant, which names each disk's path at
 * that instant. An internal disk snapshot keeps its path, an external one does not: the image it names is frozen now,
 * and the domain must run on the fresh overlay the revert put on it — booting on the frozen image would corrupt every
 * overlay above it. {@code xl restore} reads JSON config only from the image itself, so when a disk's image differs
 * the revert restores from a copy of the image whose header names the reverted images ({@link SaveImageHeader#rewrite}),
 * removed once xl has read it.
 */
public final class ResumingRevert {

    private static final Logger LOG = LoggerFactory.getLogger(ResumingRevert.class);

    private final Peers peers;
    private final Revert disks;
    private final RevertTeardown teardown;

    public ResumingRevert(Peers peers, DomainResolver resolver, Revert disks) {
        this.peers = peers;
        this.disks = disks;
        this.teardown = new RevertTeardown(peers, resolver);
    }

    public RevertResult run(DomainCatalog catalog, SnapshotInfo snap, Progress progress) throws SnapshotException {
        String label = "domain " + catalog.uuid();
        DomainControl xl = validate(catalog, snap, label);
        SaveImageHeader header = header(snap, label);
        // the first change, without an undo: everything that could refuse was checked above
        teardown.destroyIfRunning(xl, catalog.uuid(), snap.name());
        RevertResult result = disks.run(DomainRef.shutOff(catalog.uuid(), java.util.List.of()),
                teardown.load(catalog.uuid()), snap.name(), progress);
        Path image = snap.memory().image();
        Path restoreFrom = restoreImage(header, image, result, label);
        try {
            xl.restore(restoreFrom, Optional.empty());
        } catch (DomainControlException e) {
            throw Errors.xl(label + ": the disks are back at snapshot " + snap.name() + " but the domain is shut"
                    + " off: restoring it from " + restoreFrom + " failed", e);
        } finally {
            if (!restoreFrom.equals(image)) {
                deleteQuietly(restoreFrom, label);
            }
        }
        LOG.info("{}: restored from {}, running at snapshot {}", label, restoreFrom, snap.name());
        return result;
    }

    /**
     * The image {@code xl restore} must read: the save image itself when its config names every reverted image, else
     * a copy beside it whose config does.
     */
    private static Path restoreImage(SaveImageHeader header, Path image, RevertResult result, String label)
            throws SnapshotException {
        byte[] json = header.jsonConfig().orElseThrow();
        try {
            Optional<byte[]> reverted = RevertedConfig.of(json, result, image.toString());
            if (reverted.isEmpty()) {
                return image;
            }
            Path copy = restoreCopy(image);
            Files.deleteIfExists(copy);
            header.rewrite(image, reverted.get(), copy);
            LOG.info("{}: {} names the disks as they are now, for xl restore", label, copy);
            return copy;
        } catch (LibxlConfigException e) {
            throw Errors.libxl(label + ": the disks are back but the domain is shut off: the config in " + image, e);
        } catch (SaveImageException | IOException e) {
            throw new SnapshotException(SnapshotError.CATALOG_UNWRITABLE, label + ": the disks are back but the"
                    + " domain is shut off: " + e.getMessage(), e);
        }
    }

    /** @return where a revert writes the copy of {@code image} it restores from: beside it, root's only too */
    public static Path restoreCopy(Path image) {
        return image.resolveSibling(image.getFileName() + ".restore");
    }

    private static void deleteQuietly(Path copy, String label) {
        try {
            Files.deleteIfExists(copy);
        } catch (IOException e) {
            // the restore's outcome is what the caller must hear about; the next revert or delete removes the copy
            LOG.warn("{}: {} could not be removed: {}", label, copy, e.toString());
        }
    }

    /** The save image's header, and the config in it naming every disk of the snapshot: checked before any change. */
    private static SaveImageHeader header(SnapshotInfo snap, String label) throws SnapshotException {
        Path image = snap.memory().image();
        try {
            SaveImageHeader header = SaveImageHeader.read(image);
            String recorded = snap.memory().sha256();
            if (!recorded.isEmpty() && !recorded.equals(SaveImageDigest.sha256(image))) {
                throw new SaveImageException(image + " has changed since the snapshot was taken (its SHA-256 is not"
                        + " the one recorded then): damaged");
            }
            byte[] json = header.jsonConfig().orElseThrow(() -> new SaveImageException(image
                    + " carries no libxl config in JSON"));
            boolean external = false;
            for (DiskSnapshot d : snap.disks()) {
                SavedDomainConfig.disk(json, d.vdev(), image.toString());
                external |= d.kind() == SnapshotKind.EXTERNAL;
            }
            if (external) {
                long usable = Files.getFileStore(image.getParent()).getUsableSpace();
                if (usable < Files.size(image)) {
                    // a shut-off domain and reverted disks would be the result of running out half-way
                    throw new SnapshotException(SnapshotError.LOW_FREE_SPACE, label + ": snapshot " + snap.name()
                            + ": restoring it needs a copy of " + image + " (" + Files.size(image) + " bytes) that"
                            + " names the reverted overlays, and " + image.getParent() + " has " + usable
                            + " bytes free; nothing changed");
                }
            }
            return header;
        } catch (SaveImageException | LibxlConfigException | IOException e) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": snapshot " + snap.name()
                    + ": its save image cannot be restored: " + e.getMessage() + "; nothing changed", e);
        }
    }

    /** Everything that can refuse, before the running domain is destroyed. */
    private DomainControl validate(DomainCatalog catalog, SnapshotInfo snap, String label) throws SnapshotException {
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": an earlier "
                    + catalog.pending().get().kind() + " did not finish; reconcile the domain first");
        }
        DomainControl xl = peers.domains().orElseThrow(() -> new SnapshotException(SnapshotError.UNSUPPORTED,
                label + ": snapshot " + snap.name() + " holds the domain's memory, and a revert to it restores the"
                        + " domain with xl, which the configuration does not name (xl.path)"));
        return xl;
    }

}
