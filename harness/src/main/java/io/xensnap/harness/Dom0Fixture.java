package io.xensnap.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A dom0 on this machine, all real parts: a xenstored, a root laid out as libxl lays out {@code /var/run/xen} and
 * {@code /var/lib/xen} (with {@code images/} below it), the state directory xensnap is pointed at, and per running
 * domain a Xen-like QEMU (qdisk-style node names, the QMP socket where libxl puts it) registered in xenstore and in
 * libxl's userdata as libxl would. The engine tests, the itests' host side, the bench and the demo each start one and
 * add only what is their own. Everything it started stops in {@link #close()}, the QEMUs first.
 */
public final class Dom0Fixture implements AutoCloseable {

    private final RealXenstored xenstored;
    private final XenHost host;
    private final Path images;
    private final Path state;
    // the engine tests start several QEMUs side by side
    private final List<RealQemu> qemus = new CopyOnWriteArrayList<>();

    private Dom0Fixture(RealXenstored xenstored, XenHost host, Path images, Path state) {
        this.xenstored = xenstored;
        this.host = host;
        this.images = images;
        this.state = state;
    }

    /** Starts {@code profile}'s xenstored and lays out an empty dom0 around it. */
    public static Dom0Fixture start(RealXenstored.Profile profile) throws IOException {
        RealXenstored xs = RealXenstored.start(profile);
        try {
            XenHost host = XenHost.create(xs.socketPath());
            try {
                return new Dom0Fixture(xs, host,
                        Files.createDirectories(host.root().resolve("var/lib/xen/images")),
                        Files.createDirectories(host.root().resolve("var/lib/xensnap")));
            } catch (IOException | RuntimeException e) {
                host.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            xs.close();
            throw e;
        }
    }

    /** @return the uuid the fixtures give domain {@code domid}: fixed, so that a log names the domain */
    public static String uuid(int domid) {
        return String.format("6f1e4a52-0d3b-4c8e-9a1f-%012d", domid);
    }

    public RealXenstored xenstored() {
        return xenstored;
    }

    public XenHost host() {
        return host;
    }

    /** @return the dom0's root directory; everything of this dom0 but the daemons' own files is below it */
    public Path root() {
        return host.root();
    }

    /** @return libxl's images directory, the overlay root xensnap is given */
    public Path images() {
        return images;
    }

    /** @return the directory for xensnap's catalog */
    public Path state() {
        return state;
    }

    /** @return the QEMUs started so far, in the order they came up, also those that were stopped since */
    public List<RealQemu> qemus() {
        return Collections.unmodifiableList(qemus);
    }

    /**
     * Starts the device model of domain {@code domid} as libxl does (profile {@code XEN_QDISK}, QMP socket
     * {@code var/run/xen/qmp-libxl-<domid>}), its images in {@code directory}; {@code disks} says which (formats,
     * data, existing images). It is stopped in {@link #close()}.
     */
    public RealQemu startQemu(int domid, Path directory, Consumer<RealQemu.Builder> disks) throws IOException {
        RealQemu.Builder b = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                .directory(Files.createDirectories(directory))
                .libxlQmpSocket(host.root(), domid);
        disks.accept(b);
        RealQemu qemu = b.start();
        qemus.add(qemu);
        return qemu;
    }

    /**
     * Starts domain {@code domid}'s device model as {@link #startQemu} does, but booting the agent guest
     * ({@link AgentGuest}) on its disks, with the agent's channel served on {@link #agentSocket(int)}; waits for the
     * guest's boot. Register the domain with {@link #addDomain(int, String, String, RealQemu, List, List)} and that
     * socket as its channel {@code org.qemu.guest_agent.0}.
     */
    public AgentGuest startAgentGuest(int domid, Path directory, Consumer<RealQemu.Builder> disks) throws IOException {
        RealQemu.Builder b = RealQemu.builder(RealQemu.Profile.XEN_QDISK)
                .directory(Files.createDirectories(directory))
                .libxlQmpSocket(host.root(), domid)
                .agentGuest(AgentGuestImage.cached(), agentSocket(domid));
        disks.accept(b);
        RealQemu qemu = b.start();
        qemus.add(qemu);
        return AgentGuest.awaitBoot(qemu);
    }

    /** @return where the agent guest of {@code domid} serves its agent channel, as an xl.cfg would put it */
    public Path agentSocket(int domid) {
        return host.root().resolve("var/run/xen/qga-" + domid + ".sock");
    }

    /** As {@link #addDomain(int, String, String, RealQemu, List)}, with libxl channels in the domain's config. */
    public void addDomain(int domid, String name, String uuid, RealQemu qemu, List<XenHost.Disk> extra,
                          List<XenHost.Channel> channels) {
        List<XenHost.Disk> disks = new ArrayList<>(disksOf(qemu));
        disks.addAll(extra);
        host.addDomain(new XenHost.Domain(domid, name, uuid, disks, channels));
    }

    /**
     * Registers a running domain in xenstore and libxl's userdata: the qdisks {@code qemu} serves, then {@code extra}
     * (disks no QEMU serves, such as phy disks on blkback).
     */
    public void addDomain(int domid, String name, String uuid, RealQemu qemu, List<XenHost.Disk> extra) {
        List<XenHost.Disk> disks = new ArrayList<>(disksOf(qemu));
        disks.addAll(extra);
        host.addDomain(new XenHost.Domain(domid, name, uuid, disks));
    }

    /** @return the disks {@code qemu} serves, as libxl describes qdisks */
    public static List<XenHost.Disk> disksOf(RealQemu qemu) {
        List<XenHost.Disk> disks = new ArrayList<>();
        for (RealQemu.Disk d : qemu.disks()) {
            disks.add(XenHost.Disk.of(d.id(), XenHost.Backend.QDISK,
                    d.format() == RealQemu.Format.RAW ? XenHost.Format.RAW : XenHost.Format.QCOW2, d.image()));
        }
        return disks;
    }

    /** The domain shuts down: its QEMU exits and libxl removes its xenstore nodes; images and userdata stay. */
    public void shutDown(int domid, String uuid, RealQemu qemu) {
        qemu.close();
        removeDomainNodes(host.cli(), domid, uuid);
    }

    /** Removes the xenstore nodes libxl removes when a domain is gone ({@code libxl__destroy_domid}). */
    public static void removeDomainNodes(XenstoreCli cli, int domid, String uuid) {
        cli.rm("/local/domain/" + domid);
        cli.rm("/local/domain/0/backend/qdisk/" + domid);
        cli.rm("/libxl/" + domid);
        cli.rm("/vm/" + uuid);
    }

    /** Stops one QEMU before the rest, and forgets it. */
    public void stop(RealQemu qemu) {
        qemu.close();
        qemus.remove(qemu);
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (RealQemu q : qemus) {
            try {
                q.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        qemus.clear();
        try {
            host.close();
        } finally {
            xenstored.close();
        }
        if (first != null) {
            throw first;
        }
    }
}
