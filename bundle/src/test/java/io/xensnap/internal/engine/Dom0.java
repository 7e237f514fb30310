package io.xensnap.internal.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.harness.AgentGuest;
import io.xensnap.harness.Devid;
import io.xensnap.harness.Dom0Fixture;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.quiesce.GuestQuiescer;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qmp.QmpClient;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xl.DomainControl;

/**
 * A dom0 for engine tests, all real ({@link Dom0Fixture}): xenstored, a libxl layout, and per domain a Xen-like QEMU
 * with three qdisks (xvda and xvdb qcow2, xvdc raw) holding recognisable data (0x41, 0x42, 0x43 over the first MiB).
 * What is added here needs the bundle's classes: the engine wired to this dom0, and the checks the tests make.
 */
public final class Dom0 implements AutoCloseable {

    public static final ObjectMapper JSON = new ObjectMapper();

    private final Dom0Fixture fixture;
    public final RealXenstored xenstored;
    public final XenHost host;
    public final Path images;
    public final Path state;
    final List<RealQemu> qemus;
    /* every engine asks a domain view first, as the service's does; closed with this dom0 */
    private final List<DomainWatchView> views = new ArrayList<>();

    public Dom0(RealXenstored.Profile profile) throws IOException {
        fixture = Dom0Fixture.start(profile);
        xenstored = fixture.xenstored();
        host = fixture.host();
        images = fixture.images();
        state = fixture.state();
        qemus = fixture.qemus();
    }

    public static String uuid(int domid) {
        return Dom0Fixture.uuid(domid);
    }

    /** Starts a running domain: its QEMU, its xenstore nodes, its userdata JSON. */
    public RealQemu domain(int domid) throws IOException {
        return domain(domid, List.of());
    }

    /** The same, with extra disks that QEMU does not serve (phy disks on blkback). */
    RealQemu domain(int domid, List<XenHost.Disk> extra) throws IOException {
        RealQemu qemu = startQemu(domid);
        fixture.addDomain(domid, "vm" + domid, uuid(domid), qemu, extra);
        return qemu;
    }

    /** A running domain whose QEMU disks {@code disks} lays out (formats, sizes, data). */
    public RealQemu domain(int domid, java.util.function.Consumer<RealQemu.Builder> disks) throws IOException {
        RealQemu qemu = fixture.startQemu(domid, images.resolve("vm" + domid), disks);
        fixture.addDomain(domid, "vm" + domid, uuid(domid), qemu, List.of());
        return qemu;
    }

    /** Starts several running domains; their QEMUs (and images) are made side by side. */
    List<RealQemu> domains(List<Integer> domids) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(domids.size());
        try {
            List<java.util.concurrent.Future<RealQemu>> starts = new ArrayList<>();
            for (int d : domids) {
                starts.add(pool.submit(() -> startQemu(d)));
            }
            List<RealQemu> started = new ArrayList<>();
            Exception failed = null;
            for (java.util.concurrent.Future<RealQemu> f : starts) {
                try {
                    started.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    failed = failed == null ? e : failed;
                }
            }
            if (failed != null) {
                throw failed;
            }
            for (int i = 0; i < domids.size(); i++) {
                fixture.addDomain(domids.get(i), "vm" + domids.get(i), uuid(domids.get(i)), started.get(i), List.of());
            }
            return started;
        } finally {
            pool.shutdownNow();
        }
    }

    private RealQemu startQemu(int domid) throws IOException {
        return fixture.startQemu(domid, images.resolve("vm" + domid),
                b -> b.formats(RealQemu.Format.QCOW2, RealQemu.Format.QCOW2, RealQemu.Format.RAW).withData(0x41));
    }

    /**
     * A shut-off domain is started again, as xl would after a crash of xensnap: a new domid, the same uuid, QEMU on the
     * images it had ({@code tops}, with their formats), its xenstore nodes and userdata JSON.
     */
    public RealQemu restart(int newDomid, int oldDomid, List<Path> tops,
            List<RealQemu.Format> formats) throws IOException {
        RealQemu qemu = fixture.startQemu(newDomid, images.resolve("vm" + newDomid),
                b -> b.formats(formats.toArray(RealQemu.Format[]::new)).images(tops.toArray(Path[]::new)));
        fixture.addDomain(newDomid, "vm" + oldDomid, uuid(oldDomid), qemu, List.of());
        return qemu;
    }

    /** The domain shuts down: QEMU exits and libxl removes its xenstore nodes (the images and catalog stay). */
    public void shutDown(int domid, RealQemu qemu) {
        fixture.shutDown(domid, uuid(domid), qemu);
    }

    public SnapshotEngine engine(EngineHooks hooks) {
        return engine(hooks, Duration.ofSeconds(20), Duration.ofSeconds(5));
    }

    /**
     * @param lockWait         how long an operation waits for another one on the same domain before BUSY
     * @param xenstoreTimeout  how long one xenstore call waits for its reply
     */
    SnapshotEngine engine(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout) {
        return engine(hooks, lockWait, xenstoreTimeout, Duration.ofSeconds(2));
    }

    /** @param libxlLockTimeout how long to wait for libxl's domain-userdata lock before LOCK_TIMEOUT */
    SnapshotEngine engine(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout, Duration libxlLockTimeout) {
        return engine(hooks, lockWait, xenstoreTimeout, libxlLockTimeout, Duration.ofMinutes(2));
    }

    /** @param jobTimeout how long one block job may run before the engine gives up waiting for it */
    public SnapshotEngine engine(Duration jobTimeout) {
        return engine(EngineHooks.NONE, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2),
                jobTimeout);
    }

    private SnapshotEngine engine(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout,
                                  Duration libxlLockTimeout, Duration jobTimeout) {
        return engine(hooks, lockWait, xenstoreTimeout, libxlLockTimeout, jobTimeout, 0, CreateLimits.defaults());
    }

    /** @param mergeSpeed QEMU's speed limit of a delete's merge job, bytes a second (0: unlimited) */
    public SnapshotEngine engine(EngineHooks hooks, Duration jobTimeout, long mergeSpeed) {
        return engine(hooks, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2), jobTimeout,
                mergeSpeed, CreateLimits.defaults());
    }

    /** @param limits the guards of create, for a test of the guards or one that fills a file system on purpose */
    public SnapshotEngine engine(CreateLimits limits) {
        return engine(EngineHooks.NONE, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofMinutes(2), 0, limits);
    }

    /** As {@link #engine(CreateLimits)}, with the fault tests' hooks. */
    public SnapshotEngine engine(EngineHooks hooks, CreateLimits limits) {
        return engine(hooks, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofMinutes(2), 0, limits);
    }

    private SnapshotEngine engine(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout,
                                  Duration libxlLockTimeout, Duration jobTimeout, long mergeSpeed,
                                  CreateLimits limits) {
        return engine(hooks, lockWait, xenstoreTimeout, libxlLockTimeout, jobTimeout, mergeSpeed, limits,
                QuiesceSettings.defaults());
    }

    /** @param quiesce the default policy and the bounds of freezing a guest */
    public SnapshotEngine engine(EngineHooks hooks, QuiesceSettings quiesce) {
        return engine(hooks, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofMinutes(2), 0, CreateLimits.defaults(), quiesce);
    }

    /**
     * A running domain whose QEMU boots the agent guest ({@link AgentGuest}) on one qcow2 disk xvda (the file system
     * the guest writes to), with its agent on the libxl channel {@code org.qemu.guest_agent.0}.
     */
    public AgentGuest agentDomain(int domid) throws IOException {
        AgentGuest guest = fixture.startAgentGuest(domid, images.resolve("vm" + domid),
                b -> b.formats(RealQemu.Format.QCOW2));
        fixture.addDomain(domid, "vm" + domid, uuid(domid), guest.qemu(), List.of(),
                List.of(new XenHost.Channel("placeholder.devid0", fixture.root().resolve("var/run/xen/unused.sock")),
                        new XenHost.Channel(GuestQuiescer.CHANNEL, fixture.agentSocket(domid))));
        return guest;
    }

    /** @return where the agent guest of {@code domid} serves its agent channel */
    public Path agentSocketOf(int domid) {
        return fixture.agentSocket(domid);
    }

    private SnapshotEngine engine(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout,
                                  Duration libxlLockTimeout, Duration jobTimeout, long mergeSpeed,
                                  CreateLimits limits, QuiesceSettings quiesce) {
        return builder(hooks, lockWait, xenstoreTimeout, libxlLockTimeout, jobTimeout, mergeSpeed, limits, quiesce)
                .build();
    }

    /**
     * The engine with {@code xl} as the toolstack's control of whole domains: on this machine a stand-in, since no
     * hypervisor runs here (the real xl runs on the Xen test bed).
     */
    public SnapshotEngine engine(EngineHooks hooks, DomainControl xl) {
        return builder(hooks, Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofMinutes(2), 0, CreateLimits.defaults(), QuiesceSettings.defaults())
                .domains(java.util.Optional.of(xl)).build();
    }

    private EngineBuilder builder(EngineHooks hooks, Duration lockWait, Duration xenstoreTimeout,
                                  Duration libxlLockTimeout, Duration jobTimeout, long mergeSpeed,
                                  CreateLimits limits, QuiesceSettings quiesce) {
        Connectors.Xenstore xenstore =
                () -> XenstoreClient.connect(xenstored.socketPath(), "engine-test", xenstoreTimeout);
        DomainWatchView view = new DomainWatchView(xenstore);
        synchronized (views) {
            views.add(view);
        }
        return new EngineBuilder(xenstore,
                domid -> new QmpClient(host.qmpSocketPath(domid), "dom" + domid, QmpTimeouts.defaults()).connect())
                .domainView(view)
                .qemuImg(new QemuImg(new JdkProcessRunner(), "/usr/bin/qemu-img", Duration.ofSeconds(30), JSON))
                .libxl(new DomainConfigStore(host.libxlDir(), Clock.systemUTC(), libxlLockTimeout))
                .catalogs(state)
                .overlayRoots(List.of(images))
                .limits(limits)
                .locks(new DomainLocks(lockWait))
                .parallelism(2)
                .jobTimeout(jobTimeout)
                .mergeSpeed(mergeSpeed)
                .hooks(hooks)
                .quiesce(quiesce);
    }

    public SnapshotEngine engine() {
        return engine(EngineHooks.NONE);
    }

    /** The engine with the given domain view (closed by the caller) and per-operation xenstore connections. */
    SnapshotEngine engine(DomainWatchView view, Connectors.Xenstore perOperation) {
        return new EngineBuilder(perOperation,
                domid -> new QmpClient(host.qmpSocketPath(domid), "dom" + domid, QmpTimeouts.defaults()).connect())
                .domainView(view)
                .qemuImg(new QemuImg(new JdkProcessRunner(), "/usr/bin/qemu-img", Duration.ofSeconds(30), JSON))
                .libxl(new DomainConfigStore(host.libxlDir(), Clock.systemUTC(), Duration.ofSeconds(2)))
                .catalogs(state)
                .overlayRoots(List.of(images))
                .locks(new DomainLocks(Duration.ofSeconds(20)))
                .parallelism(2)
                .jobTimeout(Duration.ofMinutes(2))
                .build();
    }

    /** @return query-block of the domain's QEMU, from outside the product's client */
    JsonNode queryBlock(int domid) throws IOException {
        return JSON.readTree(RawQmp.execute(host.qmpSocketPath(domid), Duration.ofSeconds(5),
                "{\"execute\":\"query-block\"}")).get("return");
    }

    /** @return the block device of {@code vdev} in query-block */
    public JsonNode device(int domid, String vdev) throws IOException {
        for (JsonNode b : queryBlock(domid)) {
            if (b.path("qdev").asText().contains("/" + vdev + "/")) {
                return b;
            }
        }
        throw new AssertionError("no device " + vdev + " in " + queryBlock(domid));
    }

    public String rootFile(int domid, String vdev) throws IOException {
        return device(domid, vdev).path("inserted").path("file").asText();
    }

    public List<String> internalSnapshots(int domid, String vdev) throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode s : device(domid, vdev).path("inserted").path("image").path("snapshots")) {
            names.add(s.get("name").asText());
        }
        return names;
    }

    /** The guest writes: {@code pattern} over the first MiB of {@code vdev}, through QEMU (HMP qemu-io). */
    public void guestWrites(int domid, String vdev, int pattern) throws IOException {
        guestWrites(domid, vdev, pattern, 0, 1024 * 1024);
    }

    /** The guest writes: {@code pattern} over {@code length} bytes at {@code offset}, then flushes, as above. */
    public void guestWrites(int domid, String vdev, int pattern, long offset, long length) throws IOException {
        // -d: through the guest device's own BlockBackend, which holds the write permission
        String qdev = device(domid, vdev).path("qdev").asText();
        String reply = RawQmp.execute(host.qmpSocketPath(domid), Duration.ofSeconds(10),
                "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io -d " + qdev
                        + " \\\"write -P 0x" + Integer.toHexString(pattern) + " " + offset + " " + length
                        + "\\\"\"}}");
        if (!reply.contains("\"return\": \"\"") && !reply.contains("wrote")) {
            throw new AssertionError("guest write failed: " + reply);
        }
        // as a guest's flush would: QEMU caches writes (cache=writeback), and checks read the file from outside
        String flushed = RawQmp.execute(host.qmpSocketPath(domid), Duration.ofSeconds(10),
                "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io -d " + qdev
                        + " flush\"}}");
        if (!flushed.contains("\"return\": \"\"")) {
            throw new AssertionError("guest flush failed: " + flushed);
        }
    }

    public String xenstoreRead(String path) {
        return host.cli().read(path);
    }

    public String backendParams(int domid, String vdev) {
        int devid = Devid.of(vdev);
        return xenstoreRead("/local/domain/0/backend/qdisk/" + domid + "/" + devid + "/params");
    }

    /** @return libxl's stored config of the domain, without the trailing NUL */
    JsonNode userdata(int domid) throws IOException {
        byte[] b = Files.readAllBytes(host.userdataPath(domid));
        if (b[b.length - 1] != 0) {
            throw new AssertionError("userdata JSON lost its trailing NUL");
        }
        return JSON.readTree(new String(b, 0, b.length - 1, StandardCharsets.UTF_8));
    }

    JsonNode libxlDisk(int domid, String vdev) throws IOException {
        for (JsonNode d : userdata(domid).get("disks")) {
            if (d.get("vdev").asText().equals(vdev)) {
                return d;
            }
        }
        throw new AssertionError("no disk " + vdev);
    }

    /** @return {@code qemu-img info --backing-chain -U} of {@code image}: the file names, top first */
    public static List<String> chain(Path image) throws IOException {
        String out = ShortCommand.ok("qemu-img", "info", "--output=json", "--backing-chain", "-U", image.toString())
                .output();
        List<String> files = new ArrayList<>();
        for (JsonNode layer : JSON.readTree(out)) {
            files.add(layer.get("filename").asText());
        }
        return files;
    }

    /**
     * A fingerprint of everything xensnap may touch: every file below the dom0 root (name and content; a symbolic
     * link by its target), the whole xenstore tree and QEMU's view of every domain's disks. Equal before and after
     * means nothing changed.
     */
    public String fingerprint() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        StringBuilder listing = new StringBuilder();
        try (Stream<Path> files = Files.walk(host.root())) {
            for (Path p : files.sorted().toList()) {
                String file = p.getFileName().toString();
                if (Files.isSymbolicLink(p)) {
                    listing.append(host.root().relativize(p)).append(" -> ").append(Files.readSymbolicLink(p))
                            .append('\n');
                    continue;
                }
                if (Files.isRegularFile(p) && !file.endsWith(".log")) {
                    listing.append(host.root().relativize(p)).append('\n');
                    if (file.endsWith(".qcow2") || file.endsWith(".raw")) {
                        // an image's bytes move when QEMU adds and drops a snapshot; compare what it holds instead
                        listing.append(cachedImageState(p)).append('\n');
                        continue;
                    }
                    try (InputStream in = Files.newInputStream(p)) {
                        byte[] buf = new byte[1 << 16];
                        for (int n; (n = in.read(buf)) > 0; ) {
                            md.update(buf, 0, n);
                        }
                    }
                }
            }
        }
        listing.append(host.cli().lsFullWithPerms("/").lines().sorted().toList());
        for (RealQemu q : qemus) {
            if (q.isAlive()) {
                for (JsonNode b : JSON.readTree(RawQmp.execute(q.qmpSocket(), Duration.ofSeconds(5),
                        "{\"execute\":\"query-block\"}")).get("return")) {
                    JsonNode in = b.path("inserted");
                    listing.append(in.path("node-name").asText()).append(in.path("file").asText())
                            .append(in.path("image").path("snapshots").findValuesAsText("name"));
                }
            }
        }
        md.update(listing.toString().getBytes(StandardCharsets.UTF_8));
        return listing.length() + ":" + HexFormat.of().formatHex(md.digest());
    }

    /**
     * {@link #imageState} by file identity and change time: reading an image takes two qemu-img runs, and a file whose
     * inode, size, mtime and ctime are unchanged has not been written (ctime cannot be set back from user space).
     */
    private final java.util.Map<String, String> imageStates = new java.util.HashMap<>();

    private String cachedImageState(Path image) throws Exception {
        var a = Files.readAttributes(image, "unix:ino,size,lastModifiedTime,ctime");
        String key = image + " " + a.get("ino") + " " + a.get("size") + " " + a.get("lastModifiedTime") + " "
                + a.get("ctime");
        String state = imageStates.get(key);
        if (state == null) {
            state = imageState(image);
            imageStates.put(key, state);
        }
        return state;
    }

    /** Format, size, backing file, snapshot names and a hash of the first 2 MiB of guest-visible data. */
    private static String imageState(Path image) throws Exception {
        JsonNode info = JSON.readTree(ShortCommand.ok("qemu-img", "info", "-U", "--output=json", image.toString())
                .output());
        Path data = Files.createTempFile("xs-fp-", ".raw");
        try {
            Files.delete(data);
            ShortCommand.ok("qemu-img", "dd", "-U", "-f", info.get("format").asText(), "-O", "raw", "bs=1M", "count=2",
                    "if=" + image, "of=" + data);
            return info.get("format").asText() + " " + info.get("virtual-size").asText() + " "
                    + info.path("backing-filename").asText("-") + " " + info.path("snapshots").findValuesAsText("name")
                    + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(data)));
        } finally {
            Files.deleteIfExists(data);
        }
    }

    @Override
    public void close() {
        synchronized (views) {
            views.forEach(DomainWatchView::close);
        }
        fixture.close();
    }
}
