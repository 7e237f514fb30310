package io.xensnap.internal.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.xenstore.BackendKind;
import io.xensnap.internal.xenstore.DomainDisk;
import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.RunningDomain;
import io.xensnap.internal.xenstore.XenDomain;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;

/** Turns what the caller named into a {@link DomainView}: from xenstore when running, from the caller and catalog when not. */
public final class DomainResolver {

    private final Connectors.Xenstore xenstore;
    private final Optional<DomainWatchView> watched;

    /** @param watched the host's kept domains, asked first; without it every lookup reads xenstore */
    DomainResolver(Connectors.Xenstore xenstore, Optional<DomainWatchView> watched) {
        this.xenstore = xenstore;
        this.watched = watched;
    }

    /** @return the uuid of the domain, without reading its disks */
    String uuid(DomainRef ref) throws SnapshotException {
        try (Lookup lookup = lookup(ref)) {
            return lookup.uuid();
        }
    }

    public DomainView resolve(DomainRef ref, DomainCatalog catalog) throws SnapshotException {
        try (Lookup lookup = lookup(ref)) {
            return lookup.view(catalog);
        }
    }

    /** @return the lookups of one operation, sharing one xenstore connection (a running domain's uuid, then its disks) */
    Lookup lookup(DomainRef ref) {
        return new Lookup(ref);
    }

    /**
     * One operation's view of its domain: the uuid first (to take the domain's lock), then, under the lock, its disks.
     * Each is asked of the domain view first, which answers after its barrier; without an answer from it, read over
     * one xenstore connection opened on first use. Not shared between threads.
     */
    final class Lookup implements AutoCloseable {
        private final DomainRef ref;
        private XenstoreClient xs;

        private Lookup(DomainRef ref) {
            this.ref = ref;
        }

        String uuid() throws SnapshotException {
            if (ref instanceof DomainRef.ShutOff s) {
                return s.uuid();
            }
            int domid = ((DomainRef.Running) ref).domid();
            Optional<RunningDomain> seen = watched.flatMap(w -> w.facts(domid));
            if (seen.isPresent()) {
                return seen.get().domain().uuid();
            }
            try {
                return new DomainDisks(xenstore()).domain(domid).uuid();
            } catch (XenstoreException e) {
                throw notFoundOr(domid, e);
            }
        }

        /**
         * @param catalog the catalog of the domain whose lock the caller holds
         * @throws SnapshotException INVALID_STATE when a running domain's domid now belongs to another domain than the
         *                           catalog's (destroyed and the domid given again while the caller waited)
         */
        DomainView view(DomainCatalog catalog) throws SnapshotException {
            if (ref instanceof DomainRef.Running r) {
                DomainView view = runningView(running(r.domid()));
                if (!view.uuid().equals(catalog.uuid())) {
                    throw new SnapshotException(SnapshotError.INVALID_STATE, "domid " + r.domid() + " is now domain "
                            + view.uuid() + ", not " + catalog.uuid() + " as when the request came; ask again");
                }
                return view;
            }
            return shutOffView((DomainRef.ShutOff) ref, catalog);
        }

        /** The kept domain when the view can vouch for it after its barrier, else read as without the view. */
        private RunningDomain running(int domid) throws SnapshotException {
            Optional<RunningDomain> seen = watched.flatMap(w -> w.facts(domid));
            if (seen.isPresent()) {
                return seen.get();
            }
            try {
                return new DomainDisks(xenstore()).running(domid);
            } catch (XenstoreException e) {
                throw notFoundOr(domid, e);
            }
        }

        private XenstoreClient xenstore() throws XenstoreException {
            if (xs == null) {
                xs = xenstore.open();
            }
            return xs;
        }

        /** Closes the connection, if one was opened; the lookup may be used again and then opens a new one. */
        @Override
        public void close() {
            if (xs != null) {
                xs.close();
                xs = null;
            }
        }
    }

    private static DomainView shutOffView(DomainRef.ShutOff s, DomainCatalog catalog) throws SnapshotException {
        List<DiskImage> known = s.disks().isEmpty() ? catalog.disks() : s.disks();
        if (known.isEmpty() && catalog.snapshots().isEmpty()) {
            throw new SnapshotException(SnapshotError.NO_SUCH_DOMAIN, "domain " + s.uuid() + " is not running and"
                    + " xensnap knows none of its disks; name the domain with its disk images");
        }
        List<DiskView> disks = new ArrayList<>();
        for (DiskImage d : known) {
            disks.add(new DiskView(d.vdev(), DiskView.Backend.IMAGE, d.format(), d.format().id(), d.image(), true,
                    false, null));
        }
        return new DomainView(s.uuid(), catalog.name(), OptionalInt.empty(), disks);
    }

    /**
     * A shut-off domain must really be shut off: qemu-img on an image that a qdisk holds ({@code locking=off}) corrupts
     * it silently.
     *
     * @throws SnapshotException INVALID_STATE naming the domid when a running domain has this uuid
     */
    public void requireShutOff(String uuid) throws SnapshotException {
        OptionalInt domid;
        try {
            domid = runningDomid(uuid);
        } catch (XenstoreException e) {
            throw Errors.xenstore("cannot check that domain " + uuid + " is shut off", e);
        }
        if (domid.isPresent()) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, "domain " + uuid + " is running as domid "
                    + domid.getAsInt() + ": shut it down first (a device model may hold its images)");
        }
    }

    /** @return the domid under which a domain with this uuid runs, empty when none does */
    public OptionalInt runningDomid(String uuid) throws XenstoreException {
        try (XenstoreClient xs = xenstore.open()) {
            for (String id : xs.directory("/local/domain")) {
                String vm;
                try {
                    vm = xs.read("/local/domain/" + id + "/vm");
                } catch (XenstoreException e) {
                    if (e.is(XenstoreException.ENOENT)) {
                        continue;
                    }
                    throw e;
                }
                if (vm.equals("/vm/" + uuid) && id.matches("[0-9]{1,5}")) {
                    return OptionalInt.of(Integer.parseInt(id));
                }
            }
        }
        return OptionalInt.empty();
    }


    private static DomainView runningView(RunningDomain running) {
        XenDomain d = running.domain();
        List<DiskView> disks = new ArrayList<>();
        for (DomainDisk x : running.disks()) {
            DiskFormat f = switch (x.format()) {
                case QCOW2 -> DiskFormat.QCOW2;
                case RAW -> DiskFormat.RAW;
                default -> null;
            };
            DiskView.Backend b = x.kind() == BackendKind.QDISK ? DiskView.Backend.QDISK : DiskView.Backend.PHY;
            disks.add(new DiskView(x.vdev(), b, f, x.format().libxlName(), Path.of(x.target()), x.writable(),
                    x.cdrom(), x));
        }
        return new DomainView(d.uuid(), d.name(), OptionalInt.of(d.domid()), disks);
    }

    private static SnapshotException notFoundOr(int domid, XenstoreException e) {
        if (e.is(XenstoreException.ENOENT)) {
            return new SnapshotException(SnapshotError.NO_SUCH_DOMAIN, "no running domain has domid " + domid, e);
        }
        return Errors.xenstore("cannot read domain " + domid, e);
    }
}
