package io.xensnap.internal.engine.revert;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.engine.DomainResolver;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.KeptConfigReader;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.libxl.ConfigMatch;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.XlConfigText;
import io.xensnap.internal.xl.DomainControl;
import io.xensnap.internal.xl.DomainControlException;

/**
 * Revert of a disk-only snapshot that starts the domain again: a running domain is destroyed, its disks go back with
 * the offline {@link Revert}, and {@code xl create} boots it from the libxl config the snapshot kept, its disks
 * re-pointed at the reverted images ({@link RevertedConfig}).
 *
 * <p>{@code xl create} reads only xl.cfg text, so the kept JSON is written as one ({@link XlConfigText}), and xl's own
 * dry run of that text must give back the kept config field by field ({@link ConfigMatch}) — checked before the
 * domain is destroyed, so that a config the text cannot carry is refused with nothing changed, and again on the text
 * that names the reverted images.
 */
public final class RestartingRevert {

    private static final Logger LOG = LoggerFactory.getLogger(RestartingRevert.class);

    private final Peers peers;
    private final Revert disks;
    private final RevertTeardown teardown;

    public RestartingRevert(Peers peers, DomainResolver resolver, Revert disks) {
        this.peers = peers;
        this.disks = disks;
        this.teardown = new RevertTeardown(peers, resolver);
    }

    public RevertResult run(DomainRef ref, DomainCatalog catalog, SnapshotInfo snap, Progress progress)
            throws SnapshotException {
        String label = "domain " + catalog.uuid();
        DomainControl xl = validate(catalog, snap, label);
        byte[] kept = kept(catalog.uuid(), snap, label);
        Path cfg = peers.catalogs().restartConfig(catalog.uuid(), snap.name());
        try {
            check(xl, kept, cfg, label + ": snapshot " + snap.name(), "; nothing changed");
        } finally {
            delete(cfg, label);
        }
        // the first change, without an undo: everything that could refuse was checked above
        boolean ran = teardown.destroyIfRunning(xl, catalog.uuid(), snap.name());
        DomainRef shutOff = ran ? DomainRef.shutOff(catalog.uuid(), List.of()) : ref;
        RevertResult result = disks.run(shutOff, teardown.load(catalog.uuid()), snap.name(), progress);
        start(xl, kept, result, cfg, label, snap.name());
        return result;
    }

    /**
     * The disks are back: the domain boots from the kept config naming them. A failure here leaves the domain shut
     * off on the reverted disks, and the text xl was given stays for the operator to start it with.
     */
    private void start(DomainControl xl, byte[] kept, RevertResult result, Path cfg, String label, String name)
            throws SnapshotException {
        String context = label + ": the disks are back at snapshot " + name + " but the domain is shut off";
        try {
            byte[] config = RevertedConfig.of(kept, result, cfg.toString()).orElse(kept);
            check(xl, config, cfg, context, "");
            xl.create(cfg);
        } catch (DomainControlException e) {
            throw Errors.xl(context + ": xl create " + cfg + " failed (the file stays)", e);
        } catch (LibxlConfigException e) {
            throw Errors.libxl(context, e);
        }
        delete(cfg, label);
        LOG.info("{}: started again from the config kept with snapshot {}", label, name);
    }

    /**
     * Writes {@code config} as xl.cfg text to {@code cfg} and has xl's dry run prove that it carries the config.
     *
     * @param outcome what a refusal here leaves, for its message
     */
    private static void check(DomainControl xl, byte[] config, Path cfg, String context, String outcome)
            throws SnapshotException {
        try {
            String text = XlConfigText.render(config, cfg.toString());
            write(cfg, text);
            ConfigMatch.require(config, xl.parse(cfg), "the config kept");
        } catch (LibxlConfigException e) {
            throw Errors.libxl(context + outcome, e);
        } catch (DomainControlException e) {
            throw Errors.xl(context + ": xl cannot parse the config written from the one kept (" + cfg + ")"
                    + outcome, e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotError.CATALOG_UNWRITABLE, context + ": " + cfg + " cannot be written: "
                    + e.getMessage() + outcome, e);
        }
    }

    /** The xl.cfg may carry what the kept config does (a VNC password): root's only, as the kept config is. */
    private static void write(Path cfg, String text) throws IOException {
        Files.deleteIfExists(cfg);
        Files.createFile(cfg, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(cfg, text, StandardCharsets.UTF_8);
    }

    private static void delete(Path cfg, String label) {
        try {
            Files.deleteIfExists(cfg);
        } catch (IOException e) {
            // the revert's outcome is what the caller must hear about; the next revert of this snapshot replaces it
            LOG.warn("{}: {} could not be removed: {}", label, cfg, e.toString());
        }
    }

    private byte[] kept(String uuid, SnapshotInfo snap, String label) throws SnapshotException {
        return KeptConfigReader.read(peers.catalogs(), uuid, snap).map(s -> s.getBytes(StandardCharsets.UTF_8))
                .orElseThrow(() -> new SnapshotException(SnapshotError.UNSUPPORTED, label + ": snapshot "
                        + snap.name() + " keeps no domain config (it was taken of a shut-off domain, or of one libxl"
                        + " keeps no config of), so nothing says how to start the domain; revert without restart"
                        + " and start it yourself"));
    }

    /** Everything that can refuse without reading the config, before anything changes. */
    private DomainControl validate(DomainCatalog catalog, SnapshotInfo snap, String label) throws SnapshotException {
        if (snap.memory() != null) {
            throw new SnapshotException(SnapshotError.INVALID_ARGUMENT, label + ": snapshot " + snap.name()
                    + " holds the domain's memory: a revert to it resumes the domain at that instant; ask for a"
                    + " plain revert");
        }
        if (catalog.pending().isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": an earlier "
                    + catalog.pending().get().kind() + " did not finish; reconcile the domain first");
        }
        return peers.domains().orElseThrow(() -> new SnapshotException(SnapshotError.UNSUPPORTED, label
                + ": a revert that starts the domain again starts it with xl, which the configuration does not name"
                + " (xl.path)"));
    }
}
