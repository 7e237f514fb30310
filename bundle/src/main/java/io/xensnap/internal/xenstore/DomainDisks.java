package io.xensnap.internal.xenstore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a running domain's identity and disks from xenstore, laid out as libxl 4.17 writes them (xen.md §6). Each
 * read runs in one transaction, so it sees one consistent state even while devices come and go.
 */
public final class DomainDisks {

    private static final Pattern BACKEND_PATH =
            Pattern.compile("/local/domain/(\\d+)/backend/([A-Za-z0-9_-]+)/(\\d+)/(\\d+)");
    private static final Pattern UUID =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final XenstoreClient xs;

    public DomainDisks(XenstoreClient xs) {
        this.xs = Objects.requireNonNull(xs, "xs");
    }

    /**
     * @throws XenstoreException {@code ENOENT} when the domain does not exist; {@code EINVAL} when its {@code vm} node
     *         does not lead to a uuid
     */
    public XenDomain domain(int domid) throws XenstoreException {
        String dom = domainPath(domid);
        return xs.transaction(tx -> {
            String name = tx.read(dom + "/name");
            String vm = tx.read(dom + "/vm");
            String uuid = tx.read(vm + "/uuid");
            if (!UUID.matcher(uuid).matches()) {
                throw new XenstoreException(XenstoreException.EINVAL, vm + "/uuid of domain " + domid
                        + " is not a uuid: '" + uuid + "'");
            }
            return new XenDomain(domid, name, uuid);
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
            List<DomainDisk> disks = new ArrayList<>();
            for (String child : devids) {
                disks.add(disk(tx, domid, parseDevid(domid, child)));
            }
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
        String frontend = DomainDisk.frontendPath(domid, devid);
        String backend = tx.read(frontend + "/backend");
        Matcher m = BACKEND_PATH.matcher(backend);
        if (!m.matches() || Integer.parseInt(m.group(3)) != domid || Integer.parseInt(m.group(4)) != devid) {
            throw new XenstoreException(XenstoreException.EINVAL, frontend + "/backend is '" + backend
                    + "', not a backend path of domain " + domid + " device " + devid);
        }
        BackendKind kind = BackendKind.ofPathName(m.group(2));
        if (kind == null) {
            throw new XenstoreException(XenstoreException.ENOTSUP, "disk " + devid + " of domain " + domid
                    + " has a '" + m.group(2) + "' backend; only vbd (phy) and qdisk are handled");
        }
        // An empty CD-ROM drive may have no params at all.
        String params = tx.readIfExists(backend + "/params").orElse("");
        Optional<String> dev = tx.readIfExists(backend + "/dev");
        String vdev = dev.isPresent() ? dev.get() : VirtualDevice.vdev(devid);
        String mode = tx.read(backend + "/mode");
        boolean cdrom = "cdrom".equals(tx.readIfExists(backend + "/device-type").orElse("disk"));

        DiskFormat format = DiskFormat.RAW;
        String target = params;
        int colon = params.indexOf(':');
        if (kind == BackendKind.QDISK && colon >= 0) {
            try {
                format = DiskFormat.ofParamsPrefix(params.substring(0, colon));
            } catch (IllegalArgumentException e) {
                throw new XenstoreException(XenstoreException.EINVAL, backend + "/params '" + params
                        + "' has an unknown format", e);
            }
            target = params.substring(colon + 1);
        }
        return new DomainDisk(domid, devid, vdev, kind, Integer.parseInt(m.group(1)), params, format, target,
                mode.startsWith("w"), cdrom);
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
