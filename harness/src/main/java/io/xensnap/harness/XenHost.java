package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A dom0 as libxl 4.17 leaves it for running domains (docs/xen-host.md#domain-layout), under a private temp root: the
 * xenstore nodes (written with the real xenstore-utils CLI into the given daemon, with libxl's keys and permissions)
 * and the userdata JSON {@code <root>/var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json} in libxl's exact bytes.
 *
 * <p>What libxl writes that nobody here reads (memory targets, store ring, hotplug results, control nodes) is left
 * out. The QMP socket path is only reserved: QEMU is started elsewhere with {@link #qmpSocketPath(int)}.
 */
public final class XenHost implements AutoCloseable {

    /** libxl's {@code backend=}: decides the backend kind in xenstore and the {@code params} shape. */
    public enum Backend {
        PHY("phy", "vbd"),
        QDISK("qdisk", "qdisk");

        private final String libxlName;
        private final String kind;

        Backend(String libxlName, String kind) {
            this.libxlName = libxlName;
            this.kind = kind;
        }

        /** @return the name in the JSON {@code backend} field and the backend {@code type} node */
        public String libxlName() {
            return libxlName;
        }

        /** @return the backend kind in {@code /local/domain/0/backend/<kind>/...} */
        public String kind() {
            return kind;
        }
    }

    /** libxl's {@code format=}. */
    public enum Format {
        RAW("raw", "aio"),
        QCOW2("qcow2", "qcow2");

        private final String libxlName;
        private final String paramsPrefix;

        Format(String libxlName, String paramsPrefix) {
            this.libxlName = libxlName;
            this.paramsPrefix = paramsPrefix;
        }

        /** @return the name in the JSON {@code format} field */
        public String libxlName() {
            return libxlName;
        }

        /** @return the prefix of a qdisk {@code params} value ({@code libxl__device_disk_string_of_format}) */
        public String paramsPrefix() {
            return paramsPrefix;
        }
    }

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /**
     * One disk of a domain, as in an xl config line {@code vdev=..., backend=..., format=..., target=...}; or an empty
     * CD-ROM drive ({@code vdev=hdc,devtype=cdrom} without a target), which libxl lays out as a read-only qdisk whose
     * {@code params} is {@code aio:} (format EMPTY is written like raw, the path is empty).
     */
    public record Disk(String vdev, Backend backend, Format format, Path image, boolean readwrite, boolean cdrom) {
        public Disk {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(image, "image");
            if (vdev == null || !Devid.WHOLE_DISK.matcher(vdev).matches()) {
                throw new IllegalArgumentException("vdev must be a whole disk like xvda, hda or sda: " + vdev);
            }
            if (backend == Backend.PHY && format != Format.RAW) {
                throw new IllegalArgumentException("libxl's phy backend takes raw images only, not " + format);
            }
        }

        public Disk(String vdev, Backend backend, Format format, Path image, boolean readwrite) {
            this(vdev, backend, format, image, readwrite, false);
        }

        /** A read-write disk. */
        public static Disk of(String vdev, Backend backend, Format format, Path image) {
            return new Disk(vdev, backend, format, image, true);
        }

        /** A CD-ROM drive with no medium in it. */
        public static Disk emptyCdrom(String vdev) {
            return new Disk(vdev, Backend.QDISK, Format.RAW, Path.of(""), false, true);
        }

        /** @return libxl's device number ({@code libxl__device_disk_dev_number}), computed independently of the product */
        public int devid() {
            return Devid.of(vdev);
        }

        /** @return the backend {@code params} value libxl writes */
        public String params() {
            return backend == Backend.PHY ? image.toString() : format.paramsPrefix() + ":" + image;
        }
    }

    /**
     * A libxl channel with {@code connection=socket}: libxl records it in the domain's config, and the domain's device
     * model serves it on {@code socket}.
     */
    public record Channel(String name, Path socket) {
        public Channel {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(socket, "socket");
        }
    }

    /** A running PVH domain; {@code channels} as xl.cfg's {@code channel=[…]} gives them. */
    public record Domain(int domid, String name, String uuid, List<Disk> disks, List<Channel> channels) {
        public Domain(int domid, String name, String uuid, List<Disk> disks) {
            this(domid, name, uuid, disks, List.of());
        }

        public Domain {
            channels = List.copyOf(channels);
            if (domid <= 0 || domid >= 0x7ff0) {
                throw new IllegalArgumentException("a guest domid is 1..32751: " + domid);
            }
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("name required");
            }
            if (uuid == null || !UUID.matcher(uuid).matches()) {
                throw new IllegalArgumentException("uuid must be lowercase 8-4-4-4-12: " + uuid);
            }
            disks = List.copyOf(disks);
            if (disks.stream().map(Disk::devid).distinct().count() != disks.size()) {
                throw new IllegalArgumentException("two disks on one vdev: " + disks);
            }
        }
    }

    /** Collects one domain; {@link #build()} lays out the host. */
    public static final class Builder {
        private final Path socket;
        private int domid = 1;
        private String name = "testvm";
        private String uuid = "2b5a4c1e-1111-4222-8333-944455556666";
        private final List<Disk> disks = new ArrayList<>();

        private Builder(Path socket) {
            this.socket = socket;
        }

        public Builder domid(int domid) {
            this.domid = domid;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder uuid(String uuid) {
            this.uuid = uuid;
            return this;
        }

        public Builder disk(Disk disk) {
            disks.add(disk);
            return this;
        }

        public Builder disk(String vdev, Backend backend, Format format, Path image) {
            return disk(Disk.of(vdev, backend, format, image));
        }

        public XenHost build() {
            Domain domain = new Domain(domid, name, uuid, disks);
            XenHost host = XenHost.create(socket);
            try {
                host.addDomain(domain);
            } catch (RuntimeException e) {
                host.close();
                throw e;
            }
            return host;
        }
    }

    private final TempRoot root;
    private final XenstoreCli cli;
    private final Map<Integer, Domain> domains = new ConcurrentHashMap<>();

    private XenHost(TempRoot root, XenstoreCli cli) {
        this.root = root;
        this.cli = cli;
    }

    /** A host with one domain, by default domid 1 "testvm" with the uuid of docs/xen-host.md#sample-config. */
    public static Builder builder(RealXenstored xenstored) {
        return new Builder(xenstored.socketPath());
    }

    /** An empty dom0 (its own {@code /local/domain/0} nodes only) talking to the daemon on {@code socket}. */
    public static XenHost create(Path socket) {
        TempRoot root = TempRoot.create("xh-");
        try {
            Files.createDirectories(root.path().resolve("var/lib/xen"));
            Files.createDirectories(root.path().resolve("var/run/xen"));
            XenHost host = new XenHost(root, new XenstoreCli(socket));
            host.cli.write("/local/domain/0/name", "Domain-0", "/local/domain/0/domid", "0");
            return host;
        } catch (IOException e) {
            root.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /**
     * Lays out a running domain as {@code libxl__domain_make}, {@code device_disk_add} and
     * {@code libxl__device_generic_add} do, then writes its userdata JSON.
     */
    public void addDomain(Domain d) {
        if (domains.putIfAbsent(d.domid(), d) != null) {
            throw new IllegalArgumentException("domain " + d.domid() + " exists already");
        }
        String dom = domainPath(d.domid());
        String vm = "/vm/" + d.uuid();
        String libxl = "/libxl/" + d.domid();
        String ro = "r" + d.domid();

        // Directories first, then their permissions, then what lies below: a node created by dom0 inherits its
        // parent's permissions, which is how libxl's keys (and device/vbd) get theirs.
        cli.write(dom, "", vm, "", libxl, "", libxl + "/device", "");
        cli.chmod(dom, "n0", ro);
        cli.chmod(vm, "n0", ro);
        List<String> deviceDirs = new ArrayList<>(List.of(dom + "/device", ""));
        for (Disk disk : d.disks()) {
            deviceDirs.addAll(List.of(frontendPath(d.domid(), disk), "", backendPath(d.domid(), disk), ""));
        }
        cli.write(deviceDirs.toArray(String[]::new));
        for (Disk disk : d.disks()) {
            cli.chmod(frontendPath(d.domid(), disk), "n" + d.domid(), "r0");
            cli.chmod(backendPath(d.domid(), disk), "n0", ro);
        }

        List<String> keys = new ArrayList<>(List.of(
                dom + "/vm", vm,
                dom + "/name", d.name(),
                dom + "/domid", Integer.toString(d.domid()),
                vm + "/uuid", d.uuid(),
                vm + "/name", d.name(),
                libxl + "/type", "pvh"));
        for (Disk disk : d.disks()) {
            String fe = frontendPath(d.domid(), disk);
            String be = backendPath(d.domid(), disk);
            keys.addAll(List.of(
                    fe + "/backend", be,
                    fe + "/backend-id", "0",
                    fe + "/state", "1",
                    fe + "/virtual-device", Integer.toString(disk.devid()),
                    fe + "/device-type", disk.cdrom() ? "cdrom" : "disk",
                    fe + "/trusted", "1",
                    be + "/frontend", fe));
            String lx = libxlDevicePath(d.domid(), disk);
            keys.addAll(List.of(lx + "/frontend", fe, lx + "/backend", be));
            for (Map.Entry<String, String> e : backendEntries(d, disk).entrySet()) {
                keys.addAll(List.of(be + "/" + e.getKey(), e.getValue(), lx + "/" + e.getKey(), e.getValue()));
            }
        }
        cli.write(keys.toArray(String[]::new));

        try {
            byte[] json = (YajlBeautify.write(domainConfig(d)) + "\0").getBytes(StandardCharsets.UTF_8);
            Files.write(userdataPath(d.domid()), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // device_disk_add's backend entries, in its order.
    private static Map<String, String> backendEntries(Domain d, Disk disk) {
        Map<String, String> be = new LinkedHashMap<>();
        be.put("params", disk.params());
        if (disk.backend() == Backend.PHY) {
            be.put("script", "/etc/xen/scripts/block");
        }
        be.put("frontend-id", Integer.toString(d.domid()));
        be.put("online", "1");
        be.put("removable", disk.cdrom() ? "1" : "0");
        be.put("bootable", "1");
        be.put("state", "1");
        be.put("dev", disk.vdev());
        be.put("type", disk.backend().libxlName());
        be.put("mode", disk.readwrite() ? "w" : "r");
        be.put("device-type", disk.cdrom() ? "cdrom" : "disk");
        be.put("discard-enable", disk.readwrite() ? "1" : "0");
        be.put("specification", "xen");
        return be;
    }

    // What libxl_domain_config_to_json writes for a small PVH guest (docs/xen-host.md#sample-config).
    private static Map<String, Object> domainConfig(Domain d) {
        Map<String, Object> cInfo = new LinkedHashMap<>();
        cInfo.put("type", "pvh");
        cInfo.put("name", d.name());
        cInfo.put("uuid", d.uuid());
        Map<String, Object> bInfo = new LinkedHashMap<>();
        bInfo.put("max_memkb", 524288L);
        bInfo.put("target_memkb", 524288L);
        bInfo.put("sched_params", Map.of());
        bInfo.put("kernel", "/boot/vmlinuz");
        bInfo.put("type.pvh", Map.of());
        bInfo.put("arch_arm", Map.of());
        bInfo.put("arch_x86", Map.of());
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("c_info", cInfo);
        config.put("b_info", bInfo);
        if (!d.disks().isEmpty()) {
            List<Object> disks = new ArrayList<>();
            for (Disk disk : d.disks()) {
                Map<String, Object> j = new LinkedHashMap<>();
                if (!disk.cdrom()) {
                    j.put("pdev_path", disk.image().toString());
                }
                j.put("vdev", disk.vdev());
                j.put("backend", disk.backend().libxlName());
                j.put("format", disk.cdrom() ? "empty" : disk.format().libxlName());
                if (disk.cdrom()) {
                    j.put("removable", 1L);
                    j.put("is_cdrom", 1L);
                }
                if (disk.backend() == Backend.PHY) {
                    j.put("script", "block");
                }
                // libxl omits fields at their default: readwrite 0 does not appear.
                if (disk.readwrite()) {
                    j.put("readwrite", 1L);
                }
                disks.add(j);
            }
            config.put("disks", disks);
        }
        if (!d.channels().isEmpty()) {
            // the connection type is the key of a keyed union; devids counted from 1 as a fixed xl gives them
            List<Object> channels = new ArrayList<>();
            for (int i = 0; i < d.channels().size(); i++) {
                Channel c = d.channels().get(i);
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("devid", (long) (i + 1));
                j.put("name", c.name());
                j.put("connection.socket", Map.of("path", c.socket().toString()));
                channels.add(j);
            }
            config.put("channels", channels);
        }
        return config;
    }

    /** @return the temp directory standing in for the host's {@code /} */
    public Path root() {
        return root.path();
    }

    /** @return {@code <root>/var/lib/xen}: libxl's XEN_LIB_DIR, where the userdata files live */
    public Path libxlDir() {
        return root.path().resolve("var/lib/xen");
    }

    public Domain domain(int domid) {
        Domain d = domains.get(domid);
        if (d == null) {
            throw new IllegalArgumentException("no domain " + domid + " on this host");
        }
        return d;
    }

    /** @return {@code <root>/var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json} */
    public Path userdataPath(int domid) {
        return libxlDir().resolve("userdata-d." + domid + "." + domain(domid).uuid() + ".libxl-json");
    }

    /** @return libxl's domain-userdata lock file (not created: libxl creates it only while it holds the lock) */
    public Path userdataLockPath(int domid) {
        return libxlLockPath(domid, "domain-userdata-lock");
    }

    /**
     * @param userid the lock's userdata id: {@code domain-userdata-lock}, {@code qmp-socket-lock} or
     *               {@code libxl-device-changes-lock}
     * @return {@code <libxl dir>/userdata-l.<domid>.<uuid>.<userid>}, the file libxl flocks
     */
    public Path libxlLockPath(int domid, String userid) {
        return libxlDir().resolve("userdata-l." + domid + "." + domain(domid).uuid() + "." + userid);
    }

    /** @return {@code <root>/var/run/xen/qmp-libxl-<domid>}, where QEMU's QMP socket for the domain belongs */
    public Path qmpSocketPath(int domid) {
        return root.path().resolve("var/run/xen/qmp-libxl-" + domid);
    }

    public static String domainPath(int domid) {
        return "/local/domain/" + domid;
    }

    public static String frontendPath(int domid, Disk disk) {
        return domainPath(domid) + "/device/vbd/" + disk.devid();
    }

    public static String backendPath(int domid, Disk disk) {
        return "/local/domain/0/backend/" + disk.backend().kind() + "/" + domid + "/" + disk.devid();
    }

    public static String libxlDevicePath(int domid, Disk disk) {
        return "/libxl/" + domid + "/device/vbd/" + disk.devid();
    }

    /** @return the CLI bound to this host's daemon */
    public XenstoreCli cli() {
        return cli;
    }

    /** Deletes the temp root. The xenstore nodes stay: the daemon belongs to the caller. */
    @Override
    public void close() {
        root.close();
    }
}
