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
import java.util.stream.Stream;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.create.CreateLimits;
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
 *                     delete DOMID NAME
 *   DIR/out/N       written when it ends (renamed into place): the exit code on the first line (0, or 3 for a
 *                   SnapshotException), then "disk VDEV KIND IMAGE FORMAT OVERLAY" per disk of a create,
 *                   "deleted NAME" for a delete, or "ERROR CODE: message"
 *   DIR/ready       written once the service is up and its reconcile at start has ended
 *   DIR/stop        makes it exit
 * </pre>
 */
public final class ProviderMain {

    private ProviderMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 || !args[0].equals("serve")) {
            throw new IllegalArgumentException("usage: serve DIR: " + Arrays.toString(args));
        }
        Path dir = Path.of(args[1]);
        Files.createDirectories(dir.resolve("req"));
        Files.createDirectories(dir.resolve("out"));
        Settings settings = settings();
        SnapshotService service = new SnapshotService(settings, new XenstoreConnector(settings),
                new QmpConnector(settings), new QemuImgRunner(settings), new LibxlConfigUpdater(settings),
                new DomainLockRegistry());
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
                    String out = operate(service, words);
                    Path tmp = dir.resolve("out/." + request.getFileName());
                    Files.writeString(tmp, out);
                    Files.move(tmp, dir.resolve("out/" + request.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                    Files.delete(request);
                }
                Thread.sleep(200);
            }
        } finally {
            service.deactivate();
        }
        System.exit(0);
    }

    private static String operate(DiskSnapshotProvider provider, List<String> words) {
        StringBuilder out = new StringBuilder();
        DomainRef domain = DomainRef.running(Integer.parseInt(words.get(1)));
        try {
            switch (words.get(0)) {
                case "create" -> {
                    List<DiskSpec> disks = new ArrayList<>();
                    for (String d : words.subList(3, words.size())) {
                        String[] p = d.split(":", 3);
                        disks.add(p[1].equals("internal") ? DiskSpec.internal(p[0])
                                : DiskSpec.external(p[0], Path.of(p[2])));
                    }
                    SnapshotInfo info = provider.create(new SnapshotRequest(domain, words.get(2), "", disks));
                    for (DiskSnapshot d : info.disks()) {
                        out.append("disk ").append(d.vdev()).append(' ').append(d.kind()).append(' ')
                                .append(d.image()).append(' ').append(d.format()).append(' ').append(d.overlay())
                                .append('\n');
                    }
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
    /**
     * What {@code etc/io.xensnap.cfg} of {@link XenAcceptanceIT} makes of this host, every other key at its default:
     * libxl's directories, the xenstored socket found as libxenstore finds it, Debian's qemu-img, overlays in
     * {@code /images}.
     */
    private static Settings settings() {
        return new Settings(Path.of("/var/run/xen"), Path.of("/var/lib/xen"),
                XenstoreSocketPath.resolve(null, System::getenv), Path.of("/usr/bin/qemu-img"),
                Path.of("/var/lib/xensnap"), List.of(Path.of("/images")),
                new QmpTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30),
                        Duration.ofMinutes(30)),
                Duration.ofMinutes(30), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), 4,
                false, 0, CreateLimits.defaults());
    }
}
