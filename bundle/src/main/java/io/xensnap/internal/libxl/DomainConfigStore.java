package io.xensnap.internal.libxl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * libxl's stored domain configuration ({@code userdata-d.<domid>.<uuid>.libxl-json}), read and changed under libxl's
 * domain-userdata lock so that neither side loses the other's update. A change touches one disk's {@code pdev_path}
 * and {@code format} and nothing else: every other field, its order and its spelling stay as libxl wrote them.
 * Thread-safe: every call takes the lock on its own descriptor, and flock excludes descriptors, not processes.
 */
public final class DomainConfigStore {

    private static final Logger LOG = LoggerFactory.getLogger(DomainConfigStore.class);

    private final UserdataFiles files;
    private final UserdataLocker locker;

    /**
     * @param xenLibDir   libxl's XEN_LIB_DIR, {@code /var/lib/xen} on Debian
     * @param clock       for the lock deadline
     * @param lockTimeout how long to wait for another holder (libxl, xl) of the domain-userdata lock
     */
    public DomainConfigStore(Path xenLibDir, Clock clock, Duration lockTimeout) {
        this(new UserdataFiles(xenLibDir), new UserdataLocker(clock, lockTimeout));
    }

    DomainConfigStore(UserdataFiles files, UserdataLocker locker) {
        this.files = Objects.requireNonNull(files, "files");
        this.locker = Objects.requireNonNull(locker, "locker");
    }

    /**
     * Finds the domain's uuid from the file names alone, for callers without xenstore at hand.
     *
     * @throws LibxlConfigException NOT_FOUND, AMBIGUOUS (stale files of an earlier domain with this domid), IO
     */
    public LibxlDomain find(int domid) throws LibxlConfigException {
        return files.find(domid);
    }

    /**
     * The domain's config as libxl stored it, read without libxl's lock: libxl and xensnap both replace the file by a
     * rename, so a reader sees one whole version or the other.
     *
     * @return the JSON without libxl's trailing NUL
     * @throws LibxlConfigException NOT_FOUND, MALFORMED (not a JSON object), IO
     */
    public byte[] readConfig(LibxlDomain domain) throws LibxlConfigException {
        Path config = existingConfig(domain);
        byte[] bytes = read(config);
        DomainConfigJson.parse(bytes, config.toString());
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        return Arrays.copyOf(bytes, end);
    }

    /** @throws LibxlConfigException NOT_FOUND, MALFORMED, NO_SUCH_DISK, LOCK_TIMEOUT, INTERRUPTED, IO */
    public LibxlDisk readDisk(LibxlDomain domain, String vdev) throws LibxlConfigException {
        Path config = existingConfig(domain);
        try (UserdataLock lock = locker.lock(files.lock(domain, LibxlLockKind.DOMAIN_USERDATA))) {
            LOG.trace("[{}] holding {}", domain.domid(), lock);
            return DomainConfigDisks.read(load(config), vdev, config.toString());
        }
    }

    /**
     * The UNIX socket of the domain's channel {@code name} ({@code channel=["name=…,connection=socket,path=…"]} in
     * xl.cfg): libxl records it in the domain's config as {@code channels[].connection.socket.path}, and the domain's
     * device model listens there.
     *
     * <p>Read without libxl's lock: libxl (and xensnap) replace the file by a rename, so a read sees one whole version,
     * and a create that only asks for the channel must not wait behind an xl command holding the lock.
     *
     * @return the socket, empty when the domain has no such channel or it is not a socket channel
     * @throws LibxlConfigException NOT_FOUND, MALFORMED, IO
     */
    public Optional<Path> channelSocket(LibxlDomain domain, String name) throws LibxlConfigException {
        Path config = existingConfig(domain);
        return DomainConfigChannels.socket(load(config), name, config.toString());
    }

    /**
     * Points a disk at {@code pdevPath} in {@code format}.
     *
     * @return the disk as it was before
     * @throws LibxlConfigException NOT_FOUND, MALFORMED, NO_SUCH_DISK, LOCK_TIMEOUT, INTERRUPTED, IO
     */
    public LibxlDisk setDisk(LibxlDomain domain, String vdev, String pdevPath, LibxlDiskFormat format)
            throws LibxlConfigException {
        Objects.requireNonNull(pdevPath, "pdevPath");
        Objects.requireNonNull(format, "format");
        return updateDisk(domain, vdev, disk -> disk.withBacking(pdevPath, format));
    }

    /**
     * Reads a disk, applies {@code change} and writes the result, all under one hold of the lock, so that a change
     * computed from the current value (compare-and-set) cannot race with libxl or another updater. When the change
     * returns an equal disk nothing is written.
     *
     * @param change maps the current disk to the wanted one; it must keep the vdev
     * @return the disk as it was before
     * @throws LibxlConfigException NOT_FOUND, MALFORMED, NO_SUCH_DISK, LOCK_TIMEOUT, INTERRUPTED, IO; on any of them
     *                              the stored config is unchanged and no {@code userdata-n} file is left behind
     */
    public LibxlDisk updateDisk(LibxlDomain domain, String vdev, UnaryOperator<LibxlDisk> change)
            throws LibxlConfigException {
        Objects.requireNonNull(change, "change");
        Path config = existingConfig(domain);
        try (UserdataLock lock = locker.lock(files.lock(domain, LibxlLockKind.DOMAIN_USERDATA))) {
            LOG.trace("[{}] holding {}", domain.domid(), lock);
            ObjectNode tree = load(config);
            LibxlDisk before = DomainConfigDisks.read(tree, vdev, config.toString());
            LibxlDisk after = Objects.requireNonNull(change.apply(before), "change returned null");
            if (!after.vdev().equals(vdev)) {
                throw new IllegalArgumentException("a disk change must keep the vdev: " + vdev + " -> " + after.vdev());
            }
            if (after.equals(before)) {
                return before;
            }
            DomainConfigDisks.write(tree, after, config.toString());
            UserdataWriter.replace(config, files.newConfig(domain), DomainConfigJson.print(tree));
            LOG.debug("[{}] libxl config disk {}: pdev_path {} -> {}, format {} -> {}", domain.domid(), vdev,
                    before.pdevPath().orElse("(none)"), after.pdevPath().orElse("(none)"), before.format(),
                    after.format());
            return before;
        }
    }

    /**
     * Takes one of libxl's other per-domain locks with the same protocol and timeout as the domain-userdata lock. The
     * caller takes several in {@link LibxlLockKind}'s order and the domain-userdata lock ({@link #hold}) last.
     *
     * @throws LibxlConfigException LOCK_TIMEOUT naming the holder, INTERRUPTED, IO
     */
    public UserdataLock lock(LibxlDomain domain, LibxlLockKind kind) throws LibxlConfigException {
        return locker.lock(files.lock(domain, kind));
    }

    /**
     * Takes the domain-userdata lock and keeps it until the returned session is closed, so that libxl cannot read or
     * write the domain's config while a snapshot that changes it is in flight (libxl reads it under the same lock).
     *
     * @throws LibxlConfigException NOT_FOUND, LOCK_TIMEOUT, INTERRUPTED, IO
     */
    public Session hold(LibxlDomain domain) throws LibxlConfigException {
        Path config = existingConfig(domain);
        return new Session(domain, config, locker.lock(files.lock(domain, LibxlLockKind.DOMAIN_USERDATA)));
    }

    /** The config of one domain while this process holds libxl's lock on it. Not thread-safe. */
    public final class Session implements AutoCloseable {

        private final LibxlDomain domain;
        private final Path config;
        private final UserdataLock lock;

        private Session(LibxlDomain domain, Path config, UserdataLock lock) {
            this.domain = domain;
            this.config = config;
            this.lock = lock;
        }

        /** @throws LibxlConfigException NOT_FOUND, MALFORMED, NO_SUCH_DISK, IO */
        public LibxlDisk readDisk(String vdev) throws LibxlConfigException {
            return DomainConfigDisks.read(load(config), vdev, config.toString());
        }

        /**
         * Points several disks at new images in one write: a reader sees all of them changed or none.
         *
         * @return the disks as they were before, in the order given
         * @throws LibxlConfigException NOT_FOUND, MALFORMED, NO_SUCH_DISK, IO; the stored config is then unchanged
         */
        public List<LibxlDisk> setDisks(List<LibxlDisk> wanted) throws LibxlConfigException {
            ObjectNode tree = load(config);
            List<LibxlDisk> before = new ArrayList<>();
            for (LibxlDisk w : wanted) {
                before.add(DomainConfigDisks.read(tree, w.vdev(), config.toString()));
                DomainConfigDisks.write(tree, w, config.toString());
            }
            if (!before.equals(wanted)) {
                UserdataWriter.replace(config, files.newConfig(domain), DomainConfigJson.print(tree));
                LOG.debug("[{}] libxl config disks now {}", domain.domid(), wanted);
            }
            return before;
        }

        @Override
        public void close() {
            lock.close();
        }
    }

    // Checked before locking so that asking about a domain that has no config does not create a lock file for it.
    private Path existingConfig(LibxlDomain domain) throws LibxlConfigException {
        Path config = files.config(domain);
        try {
            Files.readAttributes(config, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_FOUND,
                    "no libxl config for " + domain + ": " + config + " does not exist", e);
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot stat " + config, e);
        }
        return config;
    }

    // Read again under the lock: the domain may have been destroyed (and its userdata removed) while we waited.
    private static ObjectNode load(Path config) throws LibxlConfigException {
        return DomainConfigJson.parse(read(config), config.toString());
    }

    private static byte[] read(Path config) throws LibxlConfigException {
        try {
            return Files.readAllBytes(config);
        } catch (NoSuchFileException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_FOUND, config + " disappeared", e);
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot read " + config, e);
        }
    }
}
