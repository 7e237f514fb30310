package io.xensnap.acceptance;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * into it (settings, the xenstore and QMP connectors, qemu-img, libxl's config store, the domain locks). A stock
 * Karaf costs minutes to start under TCG; this costs one JVM start per operation. One operation per run:
 *
 * <pre>
 *   create DOMID NAME VDEV:internal|VDEV:external:OVERLAY ...   prints "disk VDEV KIND IMAGE FORMAT OVERLAY" per disk
 *   delete DOMID NAME                                           prints "deleted NAME"
 * </pre>
 *
 * A {@link SnapshotException} ends it with exit code 3 and {@code ERROR <code>: <message>} on stdout.
 */
public final class ProviderMain {

    private ProviderMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: create|delete DOMID NAME [DISK...]: " + Arrays.toString(args));
        }
        Settings settings = settings();
        SnapshotService service = new SnapshotService(settings, new XenstoreConnector(settings),
                new QmpConnector(settings), new QemuImgRunner(settings), new LibxlConfigUpdater(settings),
                new DomainLockRegistry());
        // the service reconciles every domain with a catalog when it starts, as in Karaf; an operation sent while
        // that holds the domain would wait for it, so the run waits here instead
        if (!service.awaitStartupReconcile(Duration.ofMinutes(3))) {
            throw new IllegalStateException("the reconcile at start did not end within 3 min");
        }
        DiskSnapshotProvider provider = service;
        DomainRef domain = DomainRef.running(Integer.parseInt(args[1]));
        int rc = 0;
        try {
            switch (args[0]) {
                case "create" -> {
                    List<DiskSpec> disks = new ArrayList<>();
                    for (String d : Arrays.copyOfRange(args, 3, args.length)) {
                        String[] p = d.split(":", 3);
                        disks.add(p[1].equals("internal") ? DiskSpec.internal(p[0])
                                : DiskSpec.external(p[0], Path.of(p[2])));
                    }
                    SnapshotInfo info = provider.create(new SnapshotRequest(domain, args[2], "", disks));
                    for (DiskSnapshot d : info.disks()) {
                        System.out.println("disk " + d.vdev() + " " + d.kind() + " " + d.image() + " " + d.format()
                                + " " + d.overlay());
                    }
                }
                case "delete" -> {
                    provider.delete(domain, args[2]);
                    System.out.println("deleted " + args[2]);
                }
                default -> throw new IllegalArgumentException("unknown operation " + args[0]);
            }
        } catch (SnapshotException e) {
            System.out.println("ERROR " + e.codedMessage());
            rc = 3;
        } finally {
            service.deactivate();
        }
        System.out.flush();
        System.exit(rc);
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
