package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;

/**
 * Keeps libxl's config of a running domain with a snapshot, as it was at the snapshot's instant (as XAPI, Proxmox and
 * libvirt keep a VM's config with each snapshot): read before the transaction, so an external disk is still named by
 * the image the snapshot freezes. It is what the domain was, for the operator ({@code snapshot:info --config}) and for
 * starting it again from a reverted snapshot. The file may hold secrets of the domain's config (a VNC password): root's
 * only, like the save images.
 */
final class KeptConfig {

    private static final Logger LOG = LoggerFactory.getLogger(KeptConfig.class);

    private KeptConfig() {
    }

    /**
     * Writes the config to {@code file}, its undo in {@code undo}. A domain libxl keeps no config of (started by
     * another toolstack) has none to keep: the snapshot is taken without it, and the log says so.
     */
    static void keep(DomainConfigStore libxl, LibxlDomain domain, Path file, UndoLog undo, String label)
            throws IOException, LibxlConfigException, SnapshotException {
        byte[] json;
        try {
            json = libxl.readConfig(domain);
        } catch (LibxlConfigException e) {
            if (e.reason() != LibxlConfigException.Reason.NOT_FOUND) {
                throw e;
            }
            LOG.info("{}: libxl keeps no config of the domain ({}); the snapshot is taken without one", label,
                    e.getMessage());
            return;
        }
        Path dir = file.getParent();
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, label + ": " + dir + " is not a directory");
        }
        // a file a crashed create left behind (its reconcile could not remove it) names no snapshot: replaced
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        undo.done("domain config kept in " + file, () -> Files.deleteIfExists(file));
        Files.write(file, json, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                LinkOption.NOFOLLOW_LINKS);
    }
}
