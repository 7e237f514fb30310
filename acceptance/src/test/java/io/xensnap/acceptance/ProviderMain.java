package io.xensnap.acceptance;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.EngineBuilder;
import io.xensnap.internal.engine.SnapshotEngine;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.quiesce.QuiesceSettings;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.service.DomainLockRegistry;
import io.xensnap.internal.service.LibxlConfigUpdater;
import io.xensnap.internal.service.QemuImgRunner;
import io.xensnap.internal.service.QmpConnector;
import io.xensnap.internal.service.SnapshotService;
import io.xensnap.internal.service.XenstoreConnector;
import io.xensnap.internal.xenstore.XenstoreSocketPath;

/**
 * xensnap's {@link DiskSnapshotProvider} without Karaf, as a program run in the bed's dom0 with {@code java -cp}
 * ({@link Dom0Provider}): the same service the bundle registers, built with {@code new} from the same parts SCR wires
 * into it (settings, the xenstore and QMP connectors, qemu-img, libxl's config store, the domain locks).
 *
 * <p>One JVM serves every operation: under TCG on a busy machine a JVM start costs minutes, so it starts once, while
 * the guests boot, and then takes operations from a directory (on the bed's share), like the bed's own agent:
 *
 * <pre>
 *   DIR/req/N       one operation, its words one a line, renamed into place from DIR/req/.N:
 *                     create DOMID NAME VDEV:internal|VDEV:external:OVERLAY ...
 *                     qcreate DOMID NAME never|try|require FAULT VDEV:... ...   a create with that quiesce policy,
 *                       on an engine with one of {@link GuestFaults}' faults; prints "quiesced yes|no MS" too
 *                     delete DOMID NAME
 *                     reconcile DOMID     prints "clean", or "findings" and their codes
 *   DIR/out/N       written when it ends (renamed into place): the exit code on the first line (0, or 3 for a
 *                   SnapshotException), then "disk VDEV KIND IMAGE FORMAT OVERLAY" per disk of a create,
 *                   "deleted NAME" for a delete, or "ERROR CODE: message"
 *   DIR/ready       written once the service is up and its reconcile at start has ended
 *   DIR/stop        makes it exit
 * </pre>
 *
 * <p>{@code serve DIR} keeps its state where Karaf's xensnap would ({@code /var/lib/xensnap}); {@code serve DIR STATE
 * CONTROL} keeps it in {@code STATE}, beside a Karaf on the same host, and with the short quiesce bounds of
 * {@link #QUIESCE} (the guest's control channel at {@code CONTROL} is where {@link GuestFaults} stops its agent).
 */
public final class ProviderMain {

    /**
     * The quiesce bounds of {@code serve DIR STATE CONTROL}: short, so that a timeout and the watchdog cost little. The
     * agent's steps answer in well under a second on the bed (a whole quiesced create froze the guest 300-500 ms), so
     * 3 s per step still tells a silent agent from a slow one; the watchdog must wait longer than a step.
     */
    static final QuiesceSettings QUIESCE = new QuiesceSettings(QuiescePolicy.TRY, Duration.ofSeconds(3),
            Duration.ofSeconds(4));

    private ProviderMain() {
    }

    public static void main(String[] args) throws Exception {
        if ((args.length != 2 && args.length != 4) || !args[0].equals("serve")) {
            throw new IllegalArgumentException("usage: serve DIR [STATE CONTROL]: " + Arrays.toString(args));
        }
        Path dir = Path.of(args[1]);
        Files.createDirectories(dir.resolve("req"));
        Files.createDirectories(dir.resolve("out"));
        Settings settings = args.length == 4 ? settings(Path.of(args[2]), QUIESCE)
                : settings(Path.of("/var/lib/xensnap"), QuiesceSettings.defaults());
        Path control = args.length == 4 ? Path.of(args[3]) : null;
        DomainLockRegistry locks = new DomainLockRegistry();
        XenstoreConnector xenstore = new XenstoreConnector(settings);
        QmpConnector qmp = new QmpConnector(settings);
        QemuImgRunner qemuImg = new QemuImgRunner(settings);
        LibxlConfigUpdater libxl = new LibxlConfigUpdater(settings);
        SnapshotService service = new SnapshotService(settings, xenstore, qmp, qemuImg, libxl, locks);
        Faulty faulty = fault -> new EngineBuilder(xenstore, qmp).qemuImg(qemuImg.qemuImg()).libxl(libxl.store())
                .catalogs(settings.stateDir()).overlayRoots(settings.overlayRoots()).limits(settings.limits())
                .locks(locks.waiting(settings.domainBusyWait())).parallelism(settings.parallelism())
                .jobTimeout(settings.qmp().job()).mergeSpeed(settings.mergeSpeed()).quiesce(settings.quiesce())
                .hooks(new GuestFaults(fault, control)).build();
        // the service reconciles every domain with a catalog when it starts, as in Karaf; an operation sent while
        // that holds the domain would wait for it, so none is taken before it ended
        if (!service.awaitStartupReconcile(Duration.ofMinutes(3))) {
            throw new IllegalStateException("the reconcile at start did not end within 3 min");
        }
        Files.writeString(dir.resolve("ready"), "ready\n");
        try {
            while (!Files.exists(dir.resolve("stop"))) {
                List<Path> requests;
                try (Stream<Path> list = Files.list(dir.resolve("req"))) {
                    requests = list.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
                }
                for (Path request : requests) {
                    List<String> words = Files.readAllLines(request);
                    // taken before it runs: a JVM that dies in it (a fault a test caused) must not run it again when
                    // it is started again
                    Files.delete(request);
                    String out = operate(service, faulty, words);
                    Path tmp = dir.resolve("out/." + request.getFileName());
                    Files.writeString(tmp, out);
                    Files.move(tmp, dir.resolve("out/" + request.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                }
                Thread.sleep(200);
            }
        } finally {
            service.deactivate();
        }
        System.exit(0);
    }

    /** An engine with one of {@link GuestFaults}' faults, on the service's parts and state. */
    @FunctionalInterface
    private interface Faulty {
        SnapshotEngine engine(String fault);
    }

    private static String operate(SnapshotService provider, Faulty faulty, List<String> words) {
        StringBuilder out = new StringBuilder();
        DomainRef domain = DomainRef.running(Integer.parseInt(words.get(1)));
        try {
            switch (words.get(0)) {
                case "create" -> print(provider.create(new SnapshotRequest(domain, words.get(2), "",
                        disks(words.subList(3, words.size())))), out);
                case "qcreate" -> {
                    SnapshotInfo info = faulty.engine(words.get(4)).create(new SnapshotRequest(domain, words.get(2),
                            "", disks(words.subList(5, words.size())), QuiescePolicy.of(words.get(3))));
                    print(info, out);
                    out.append("quiesced ").append(info.quiesced() ? "yes " : "no ").append(info.frozen().toMillis())
                            .append('\n');
                }
                case "reconcile" -> {
                    ReconcileReport report = provider.reconcile(domain);
                    out.append(report.clean() ? "clean" : "findings");
                    report.findings().forEach(f -> out.append(' ').append(f.code()));
                    out.append('\n');
                }
                case "delete" -> {
                    provider.delete(domain, words.get(2));
                    out.append("deleted ").append(words.get(2)).append('\n');
                }
                default -> throw new IllegalArgumentException("unknown operation " + words.get(0));
            }
            return "0\n" + out;
        } catch (SnapshotException e) {
            return "3\nERROR " + e.codedMessage() + "\n";
        } catch (RuntimeException e) {
            // a bug, not a refusal: reported to the test with its stack, and the next operation still served
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            return "1\nFAILED " + trace + "\n";
        }
    }

    private static List<DiskSpec> disks(List<String> words) {
        List<DiskSpec> disks = new ArrayList<>();
        for (String d : words) {
            String[] p = d.split(":", 3);
            disks.add(p[1].equals("internal") ? DiskSpec.internal(p[0]) : DiskSpec.external(p[0], Path.of(p[2])));
        }
        return disks;
    }

    private static void print(SnapshotInfo info, StringBuilder out) {
        for (DiskSnapshot d : info.disks()) {
            out.append("disk ").append(d.vdev()).append(' ').append(d.kind()).append(' ').append(d.image())
                    .append(' ').append(d.format()).append(' ').append(d.overlay()).append('\n');
        }
    }
    /**
     * What {@code etc/io.xensnap.cfg} of {@link XenAcceptanceIT} makes of this host, every other key at its default:
     * libxl's directories, the xenstored socket found as libxenstore finds it, Debian's qemu-img, overlays in
     * {@code /images}.
     */
    private static Settings settings(Path state, QuiesceSettings quiesce) {
        return new Settings(Path.of("/var/run/xen"), Path.of("/var/lib/xen"),
                XenstoreSocketPath.resolve(null, System::getenv), Path.of("/usr/bin/qemu-img"),
                state, List.of(Path.of("/images")),
                new QmpTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30),
                        Duration.ofMinutes(30)),
                Duration.ofMinutes(30), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), 4,
                false, 0, CreateLimits.defaults(), Optional.empty(), Duration.ofMinutes(10), quiesce);
    }
}
