package io.xensnap.api;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates, reverts, deletes and lists disk snapshots of Xen domains. Registered as an OSGi service.
 *
 * <p>Operations on one domain are serialized; operations on different domains run in parallel. Every operation
 * either completes or leaves the domain's images, xenstore, libxl's stored config and the snapshot catalog as they
 * were. Bad input is refused with {@link SnapshotError#INVALID_ARGUMENT} (or the more specific code listed) before
 * anything is changed.
 */
@ProviderType
public interface DiskSnapshotProvider {

    /**
     * Snapshots the disks of a domain atomically.
     *
     * @return the new snapshot, which becomes the domain's current one
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_DISK}, {@code SNAPSHOT_EXISTS} (the name, or
     *                           an overlay file that exists), {@code INVALID_ARGUMENT}, {@code UNSUPPORTED} (internal
     *                           on raw, any snapshot of a phy disk of a running domain), {@code INVALID_STATE},
     *                           {@code BUSY}, {@code LOCK_TIMEOUT}, {@code HYPERVISOR_ERROR}, {@code TOOL_FAILED},
     *                           {@code TIMEOUT}, {@code INTERNAL}
     */
    SnapshotInfo create(SnapshotRequest request) throws SnapshotException;

    /**
     * Brings the disks of a shut-off domain back to a snapshot. A snapshot with memory ({@link SnapshotInfo#memory()})
     * brings the whole domain back instead, running or shut off: a running domain is destroyed, the disks go back,
     * and the domain is restored from the snapshot's save image, running at the snapshot's instant on the reverted
     * images (for an external disk, a fresh overlay on the image the snapshot froze).
     *
     * @return the snapshot and the image each disk must now be started from (for a snapshot with memory: runs on)
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_SNAPSHOT}, {@code INVALID_STATE} (the domain
     *                           runs: no device model may hold the images; or a save image that cannot be
     *                           restored), {@code UNSUPPORTED} (a snapshot with memory and no xl configured),
     *                           {@code LOW_FREE_SPACE}, {@code BUSY}, {@code LOCK_TIMEOUT}, {@code HYPERVISOR_ERROR},
     *                           {@code TOOL_FAILED}, {@code TIMEOUT}, {@code INTERNAL}
     */
    RevertResult revert(DomainRef domain, String snapshot) throws SnapshotException;

    /**
     * Brings a domain back to a disk-only snapshot and boots it: a running domain is destroyed (what it did since is
     * lost), its disks go back as {@link #revert} puts them back, and the domain is started again ({@code xl create})
     * from the libxl config the snapshot kept ({@link #domainConfig}), its disks naming the reverted images. The
     * config is checked before anything changes: xl must parse back the same config from the xl.cfg xensnap writes
     * for it, else the revert is refused.
     *
     * @return the snapshot and the image each disk now runs on
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_SNAPSHOT}, {@code INVALID_ARGUMENT} (a
     *                           snapshot with memory: {@link #revert} resumes it), {@code UNSUPPORTED} (no config
     *                           kept, one an xl.cfg cannot carry, or no xl configured), {@code INVALID_STATE},
     *                           {@code BUSY}, {@code LOCK_TIMEOUT}, {@code HYPERVISOR_ERROR} (the domain did not
     *                           start: it stays shut off on the reverted disks), {@code TOOL_FAILED},
     *                           {@code TIMEOUT}, {@code INTERNAL}
     * @since 1.3
     */
    RevertResult revertAndRestart(DomainRef domain, String snapshot) throws SnapshotException;

    /**
     * Deletes a snapshot. Internal snapshots are removed from their images; external ones are merged so that the
     * domain's data stays as it is.
     *
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_SNAPSHOT}, {@code INVALID_STATE}, {@code BUSY},
     *                           {@code LOCK_TIMEOUT}, {@code HYPERVISOR_ERROR}, {@code TOOL_FAILED}, {@code TIMEOUT},
     *                           {@code INTERNAL}
     */
    void delete(DomainRef domain, String snapshot) throws SnapshotException;

    /**
     * @return every snapshot of the domain as a tree (empty when it has none)
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code INTERNAL} (for example a corrupt catalog, which is
     *                           reported and never silently replaced)
     */
    SnapshotTree list(DomainRef domain) throws SnapshotException;

    /**
     * @return the snapshot called {@code snapshot}
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_SNAPSHOT}, {@code INTERNAL}
     */
    SnapshotInfo get(DomainRef domain, String snapshot) throws SnapshotException;

    /**
     * Counts the space each snapshot of a domain holds and what deleting it would give back, from the qcow2 tables of
     * its images (see {@link SnapshotSpace} for what is counted). The images are only read, without a lock, also
     * while the domain runs: nothing waits for the domain, and the domain waits for nothing. A disk whose image cannot
     * be read is {@link SnapshotSpace.Accuracy#UNKNOWN}, with the reason, rather than an exception.
     *
     * @return one entry per snapshot, in the order of {@link #list(DomainRef)}
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code INTERNAL} (for example a corrupt catalog)
     * @since 1.3
     */
    List<SnapshotSpace> space(DomainRef domain) throws SnapshotException;

    /**
     * libxl's config of the domain as it was when the snapshot was taken (libxl's own JSON, as in its userdata file),
     * kept with every snapshot of a running domain: for a disk an external snapshot moved, it still names the image
     * the snapshot froze. A snapshot of a shut-off domain, or of a domain libxl keeps no config of, has none.
     *
     * @return the JSON text, or empty when the snapshot keeps none
     * @throws SnapshotException {@code NO_SUCH_DOMAIN}, {@code NO_SUCH_SNAPSHOT}, {@code INVALID_STATE} (a damaged save
     *                           image), {@code INTERNAL}
     * @since 1.3
     */
    Optional<String> domainConfig(DomainRef domain, String snapshot) throws SnapshotException;
}
