package io.xensnap.acceptance;

import static io.xensnap.acceptance.Acceptance.log;
import static io.xensnap.acceptance.Acceptance.minutes;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import io.xensnap.harness.XenBed;

/**
 * The real Xen host every acceptance class of a run shares: the bed booted once, a stock Karaf unpacked and started
 * in its dom0 with xensnap's feature repository and {@code etc/io.xensnap.cfg}, xensnap installed on first use. Under
 * TCG the boot and Karaf's start cost minutes, a class's own guest and steps far less, so a class asks for the host
 * ({@code @BeforeAll void boot(Dom0Host host)} with {@code @ExtendWith(Dom0Host.Shared.class)}), starts its guest
 * while Karaf may still be starting, then calls {@link #karaf()}. The host is closed when the run ends. The classes
 * run one after the other: each one's steps assume nobody else drives Karaf meanwhile.
 *
 * <p>The later classes' guests do not wait for their class: while the first class waits for Karaf's start (minutes,
 * on one of dom0's vCPUs), the guests of the other classes of the run ({@link RunPlan}) are created and boot, through
 * {@link #early}, and then wait paused (a running guest costs the emulated host CPU time the classes before it need).
 * A class then finds its guest booted and unpauses it.
 */
final class Dom0Host implements ExtensionContext.Store.CloseableResource {

    /**
     * What each class that can start early starts, in the order of the run: its guest, made, created, booted and
     * paused.
     */
    private static final Map<Class<?>, Function<XenBed, ?>> EARLY = early();

    private final XenBed bed;
    private final Dom0Karaf karaf;
    private final Dom0View view;
    private boolean installed;
    private final Map<Class<?>, CompletableFuture<?>> started = new ConcurrentHashMap<>();

    private Dom0Host(XenBed bed, Dom0Karaf karaf) {
        this.bed = bed;
        this.karaf = karaf;
        this.view = new Dom0View(bed);
    }

    private static Dom0Host boot() {
        long t0 = System.nanoTime();
        XenBed bed = XenBed.boot(XenBed.Image.locate(), minutes(8));
        try {
            log("dom0 ready in " + bed.bootTime().toSeconds() + " s");
            Dom0Karaf karaf = Dom0Karaf.unpackAndStart(bed, Path.of(System.getProperty("xensnap.karaf")),
                    Path.of(System.getProperty("xensnap.repository")), config());
            Guest.prepareInitramfs(bed);
            log("Karaf starting, guests' initramfs made after " + Acceptance.secs(t0));
            return new Dom0Host(bed, karaf);
        } catch (IOException | RuntimeException e) {
            bed.close();
            throw e instanceof IOException io ? new IllegalStateException(io) : (RuntimeException) e;
        }
    }

    XenBed bed() {
        return bed;
    }

    Dom0View view() {
        return view;
    }

    /**
     * Starts {@code test}'s own setup in the background, once per run: when a class of the run calls {@link #karaf()}
     * first, or when {@code test} asks for it itself, whichever comes first.
     *
     * @return the setup's result, once there; it fails as the setup failed
     */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> early(Class<?> test, Function<XenBed, T> setup) {
        return (CompletableFuture<T>) started.computeIfAbsent(test,
                k -> Acceptance.background(test.getSimpleName(), () -> setup.apply(bed)));
    }

    /** @return Karaf, once xensnap is installed in it (the first call waits for Karaf's start and installs it) */
    synchronized Dom0Karaf karaf() {
        if (!installed) {
            // the first class is set up: while Karaf starts, the later classes' guests are made, created and boot
            EARLY.forEach((test, setup) -> {
                if (RunPlan.holds(test) && !started.containsKey(test)) {
                    log("starting " + test.getSimpleName() + "'s guest while Karaf starts");
                    early(test, setup);
                }
            });
            long t0 = System.nanoTime();
            karaf.awaitConsoleAndInstall("mvn:io.xensnap/xensnap-features/" + System.getProperty("xensnap.version")
                    + "/xml/features");
            installed = true;
            log("xensnap installed in a stock Karaf (waited " + Acceptance.secs(t0) + ")");
        }
        return karaf;
    }

    /** @return Karaf as it is, installed or not: for failure reports */
    Dom0Karaf karafAsIs() {
        return karaf;
    }

    @Override
    public void close() {
        try {
            karaf.close();
        } finally {
            bed.close();
        }
    }

    private static Map<Class<?>, Function<XenBed, ?>> early() {
        Map<Class<?>, Function<XenBed, ?>> early = new LinkedHashMap<>();
        early.put(DomainSnapshotIT.class, DomainSnapshotIT::startGuest);
        early.put(QuiesceOnXenIT.class, QuiesceOnXenIT::startGuest);
        return early;
    }

    /**
     * etc/io.xensnap.cfg as an operator writes it for this host (docs/install.md): the real run and lib directories,
     * Debian's xenstored over its socket, xl for snapshots with memory, overlays under /images.
     */
    private static String config() {
        return String.join("\n",
                "xen.run.dir = /var/run/xen",
                "xen.lib.dir = /var/lib/xen",
                "xenstored.socket =",
                "qemu.img = /usr/bin/qemu-img",
                "xl.path = /usr/sbin/xl",
                "state.dir = /var/lib/xensnap",
                "overlay.roots = /images",
                "");
    }

    /** Gives a class's {@code @BeforeAll} the run's one host, booting it for the first class that asks. */
    static final class Shared implements ParameterResolver {

        private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(Dom0Host.class);

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == Dom0Host.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(NS).getOrComputeIfAbsent(Dom0Host.class, k -> boot(), Dom0Host.class);
        }
    }
}
