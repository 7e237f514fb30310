package io.xensnap.internal.xenstore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.xensnap.api.Names;

/**
 * Reads a running domain's identity and disks from xenstore, laid out as libxl 4.17 writes them
 * (docs/xen-host.md#domain-layout). Each read runs in one transaction, so it sees one consistent state even while
 * devices come and go.
 */
public final class DomainDisks {

    private static final Pattern BACKEND_PATH =
            Pattern.compile("/local/domain/(\\d+)/backend/([A-Za-z0-9_-]+)/(\\d+)/(\\d+)");

    private final XenstoreClient xs;

    public DomainDisks(XenstoreClient xs) {
        this.xs = Objects.requireNonNull(xs, "xs");
    }

    /**
     * @throws XenstoreException {@code ENOENT} when the domain does not exist; {@code EINVAL} when its {@code vm} node
     *         does not lead to a uuid
     */
    public XenDomain domain(int domid) throws XenstoreException {
        return identity(domid).domain();
    }

    /**
     * The domain's identity, then its disks: two transactions, as {@link #domain} and {@link #disks} read them.
     *
     * @throws XenstoreException as {@link #domain} and {@link #disks}
     */
    public RunningDomain running(int domid) throws XenstoreException {
        RunningDomain identity = identity(domid);
        return new RunningDomain(identity.domain(), identity.vm(), disks(domid));
    }

    private RunningDomain identity(int domid) throws XenstoreException {
        String dom = domainPath(domid);
        return xs.transaction(tx -> {
            String name = tx.read(dom + "/name");
            String vm = tx.read(dom + "/vm");
            String uuid = tx.read(vm + "/uuid");
            if (!Names.isUuid(uuid)) {
                throw new XenstoreException(XenstoreException.EINVAL, vm + "/uuid of domain " + domid
                        + " is not a uuid: '" + uuid + "'");
            }
            return new RunningDomain(new XenDomain(domid, name, uuid), vm, List.of());
        });
    }

    /**
     * @return the domain's disks ({@code /local/domain/<domid>/device/vbd/*}), ordered by devid; empty when it has none
     * @throws XenstoreException {@code ENOENT} when the domain does not exist; {@code ENOTSUP} for a backend kind other
     *         than vbd or qdisk; {@code EINVAL} for entries that do not parse
     */
    public List<DomainDisk> disks(int domid) throws XenstoreException {
        return xs.transaction(tx -> {
            if (!tx.exists(domainPath(domid))) {
                throw new XenstoreException(XenstoreException.ENOENT, "no domain " + domid + " in xenstore");
            }
            List<String> devids;
            try {
                devids = tx.directory(domainPath(domid) + "/device/vbd");
            } catch (XenstoreException e) {
                if (e.is(XenstoreException.ENOENT)) {
                    return List.of();
                }
                throw e;
            }
            List<Integer> ids = new ArrayList<>();
            for (String child : devids) {
                ids.add(parseDevid(domid, child));
            }
            List<DomainDisk> disks = new ArrayList<>(disks(tx, domid, ids));
            disks.sort(Comparator.comparingInt(DomainDisk::devid));
            return List.copyOf(disks);
        });
    }

    /**
     * @return one disk by devid
     * @throws XenstoreException {@code ENOENT} when the domain has no such disk
     */
    public DomainDisk disk(int domid, int devid) throws XenstoreException {
        return xs.transaction(tx -> disk(tx, domid, devid));
    }

    static DomainDisk disk(XenstoreOps tx, int domid, int devid) throws XenstoreException {
        return disks(tx, domid, List.of(devid)).get(0);
    }

    /*
     * Two batches of reads whatever the number of disks (each batch is pipelined on the connection): every frontend's
     * backend link, then four nodes of every backend. With one read after another, 16 disks took ~80 round trips.
     */
    private static List<DomainDisk> disks(XenstoreOps tx, int domid, List<Integer> devids) throws XenstoreException {
        List<String> links = new ArrayList<>();
        for (int devid : devids) {
            links.add(DomainDisk.frontendPath(domid, devid) + "/backend");
        }
        List<Optional<String>> backends = tx.readAllIfExist(links);
        List<Matcher> parsed = new ArrayList<>();
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < devids.size(); i++) {
            int devid = devids.get(i);
            String link = links.get(i);
            String backend = backends.get(i).orElseThrow(() -> new XenstoreException(XenstoreException.ENOENT,
                    "READ " + link));
            Matcher m = BACKEND_PATH.matcher(backend);
            if (!m.matches() || Integer.parseInt(m.group(3)) != domid || Integer.parseInt(m.group(4)) != devid) {
                throw new XenstoreException(XenstoreException.EINVAL, DomainDisk.frontendPath(domid, devid)
                        + "/backend is '" + backend + "', not a backend path of domain " + domid + " device " + devid);
            }
            if (BackendKind.ofPathName(m.group(2)) == null) {
                throw new XenstoreException(XenstoreException.ENOTSUP, "disk " + devid + " of domain " + domid
                        + " has a '" + m.group(2) + "' backend; only vbd (phy) and qdisk are handled");
            }
            parsed.add(m);
            nodes.addAll(List.of(backend + "/params", backend + "/dev", backend + "/mode", backend + "/device-type"));
        }
        List<Optional<String>> values = tx.readAllIfExist(nodes);
        List<DomainDisk> out = new ArrayList<>();
        for (int i = 0; i < devids.size(); i++) {
            String backend = backends.get(i).orElseThrow();
            List<Optional<String>> v = values.subList(4 * i, 4 * i + 4);
            out.add(disk(domid, devids.get(i), parsed.get(i), backend, v.get(0), v.get(1), v.get(2), v.get(3)));
        }
        return out;
    }

    private static DomainDisk disk(int domid, int devid, Matcher backendPath, String backend, Optional<String> params,
                                   Optional<String> dev, Optional<String> mode, Optional<String> deviceType)
            throws XenstoreException {
        BackendKind kind = BackendKind.ofPathName(backendPath.group(2));
        // An empty CD-ROM drive may have no params at all.
        String p = params.orElse("");
        String vdev = dev.isPresent() ? dev.get() : VirtualDevice.vdev(devid);
        String m = mode.orElseThrow(() -> new XenstoreException(XenstoreException.ENOENT, "READ " + backend + "/mode"));
        boolean cdrom = "cdrom".equals(deviceType.orElse("disk"));

        LibxlFormat format = LibxlFormat.RAW;
        String target = p;
        int colon = p.indexOf(':');
        if (kind == BackendKind.QDISK && colon >= 0) {
            try {
                format = LibxlFormat.ofParamsPrefix(p.substring(0, colon));
            } catch (IllegalArgumentException e) {
                throw new XenstoreException(XenstoreException.EINVAL, backend + "/params '" + p
                        + "' has an unknown format", e);
            }
            target = p.substring(colon + 1);
        }
        return new DomainDisk(domid, devid, vdev, kind, Integer.parseInt(backendPath.group(1)), p, format, target,
                m.startsWith("w"), cdrom);
    }

    private static int parseDevid(int domid, String child) throws XenstoreException {
        try {
            return Integer.parseInt(child);
        } catch (NumberFormatException e) {
            throw new XenstoreException(XenstoreException.EINVAL, "domain " + domid + " has a vbd named '" + child
                    + "', not a device number", e);
        }
    }

    private static String domainPath(int domid) {
        return "/local/domain/" + domid;
    }
}
