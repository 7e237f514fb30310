package io.xensnap.internal.engine.create;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.MemoryImage;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.DiskView;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.engine.Images;
import io.xensnap.internal.engine.OverlayFiles;
import io.xensnap.internal.engine.Parallel;
import io.xensnap.internal.engine.Peers;
import io.xensnap.internal.engine.QmpSession;
import io.xensnap.internal.engine.UndoLog;
import io.xensnap.internal.engine.quiesce.GuestQuiescer;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.LibxlLockKind;
import io.xensnap.internal.libxl.SavedDomainConfig;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.BlockDevice;
import io.xensnap.internal.qmp.BlockDevices;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.qmp.QmpTransactionException;
import io.xensnap.internal.qmp.RunState;
import io.xensnap.internal.qmp.SnapshotTransaction;
import io.xensnap.internal.qmp.TransactionAction;
import io.xensnap.internal.qmp.VmControl;
import io.xensnap.internal.xenstore.DiskImageSwap;
import io.xensnap.internal.xenstore.LibxlFormat;
import io.xensnap.internal.xenstore.XenstoreClient;
import io.xensnap.internal.xenstore.XenstoreException;
import io.xensnap.internal.xl.SaveImageDigest;
import io.xensnap.internal.xl.DomainControlException;

/**
 * Create on a running domain: all disks in one QMP transaction, so QEMU applies every action or none. For external
 * disks libxl's config and the xenstore backend follow the overlay afterwards; libxl's lock is held from before the
 * transaction until its config says the same as QEMU, so libxl never reads a config that names the old image.
 */
public final class LiveCreate {

    private static final Logger LOG = LoggerFactory.getLogger(LiveCreate.class);

    /** Run states in which QEMU serves the disks and takes snapshots. */
    private static final Set<String> SNAPSHOT_STATES = Set.of("running", "paused", "prelaunch", "suspended");

    /** The answers to these three go out together: one round trip to QEMU before the transaction, not three. */
    private static final List<String> TARGET_QUERIES = Stream.concat(Stream.of(VmControl.STATUS_QUERY),
            BlockDevices.QUERIES.stream()).toList();

    private final Peers peers;
    private final int parallelism;
    private final EngineHooks hooks;
    private final GuestQuiescer quiescer;

    /** @param parallelism how many overlays are formatted at once (qemu-img runs) */
    public LiveCreate(Peers peers, int parallelism, EngineHooks hooks, GuestQuiescer quiescer) {
        this.peers = peers;
        this.parallelism = Math.max(1, parallelism);
        this.hooks = hooks;
        this.quiescer = quiescer;
    }

    public SnapshotInfo run(CreatePlan plan) throws SnapshotException {
        // the agent first: a create that requires a freeze and cannot have one is refused before anything changes.
        // A snapshot with memory is not frozen: its memory image holds what the guest has not written yet, and the
        // guest is paused through its disks' transaction, where no agent could answer.
        QuiescePolicy policy = plan.memory() != null ? QuiescePolicy.NEVER : plan.quiesce();
        try (GuestQuiescer.Agent agent = quiescer.prepare(plan.domain(), plan.name(), policy)) {
            UndoLog undo = new UndoLog();
            List<OverlayFiles.Made> made = new ArrayList<>();
            try {
                return run(plan, agent, undo, made);
            } catch (QmpException | QemuImgException | IOException | LibxlConfigException | CatalogException
                    | DomainControlException | SnapshotException e) {
                throw Errors.rolledBack(undo, plan.domain().label(), "snapshot " + plan.name(), e);
            } catch (RuntimeException e) {
                undo.rollback(e);
                throw e;
            } finally {
                made.forEach(OverlayFiles.Made::close);
            }
        }
    }

    private SnapshotInfo run(CreatePlan plan, GuestQuiescer.Agent agent, UndoLog undo, List<OverlayFiles.Made> made)
            throws QmpException, QemuImgException, IOException, LibxlConfigException, CatalogException,
            DomainControlException, SnapshotException {
        DomainView domain = plan.domain();
        int domid = domain.domid().getAsInt();
        LibxlDomain libxlDomain = new LibxlDomain(domid, UUID.fromString(domain.uuid()));
        boolean changesDisks = plan.disks().stream().anyMatch(d -> d.kind() == SnapshotKind.EXTERNAL);
        MemoryStart start = memoryStart(plan, libxlDomain, changesDisks, undo, agent);
        MemorySave memory = start.memory();
        DomainCatalog marked = start.marked();
        DomainConfigStore.Session libxl = null;
        // libxl's order: device-changes lock, then the QMP socket's, then the domain-userdata lock
        // (docs/xen-host.md)
        try (UserdataLock deviceChanges = changesDisks
                ? peers.libxl().lock(libxlDomain, LibxlLockKind.DEVICE_CHANGES) : null;
             QmpSession session = QmpSession.open(peers, domid, domain.uuid())) {
            QmpConnection qmp = session.qmp();
            // QEMU answers while the mark goes to the disk: the mark needs nothing from the answers, and a create
            // they refuse takes it back like any other undo
            QmpConnection.Batch queries = qmp.sendAll(TARGET_QUERIES);
            // a PV domain's save never talks to its QEMU, and only libxl's QMP socket lock is held here: the
            // session and its queries are ready before the domain pauses, which then waits for the transaction
            Targets targets = start.saveInSession() ? targets(plan, queries.await(), qmp) : null;
            if (start.saveInSession()) {
                memory.save(undo);
            }
            libxl = changesDisks ? peers.libxl().hold(libxlDomain) : null;
            if (marked == null) {
                marked = PendingMark.write(peers, plan, libxlDomain, undo, PendingOperation.Kind.CREATE,
                        agent.socket().orElse(null));
            }
            targets = targets != null ? targets : targets(plan, queries.await(), qmp);
            makeOverlays(plan, targets.devices(), made, undo);
            EngineHooks.call(() -> hooks.beforeTransaction(plan));
            GuestQuiescer.Agent.Freeze freeze = frozenTransaction(plan, agent, qmp, targets.actions(), undo, memory);

            // POINT OF NO RETURN. QEMU now holds the internal snapshots and writes to the new overlays; undoing
            // that would need another transaction that can fail too. From here on we go forward: let a domain
            // paused for its memory run again, make libxl's config, xenstore and the catalog say what QEMU does,
            // and if one of them fails, leave the pending mark so reconcile can finish the job.
            undo.commit();
            Optional<String> resumeFailure = memory == null ? Optional.empty() : memory.resume();
            EngineHooks.call(() -> hooks.afterPointOfNoReturn(plan));
            return finish(plan, libxl, marked, resumeFailure, freeze);
        } finally {
            if (libxl != null) {
                libxl.close();
            }
        }
    }

    /**
     * @param memory        the save of a snapshot with memory, null without
     * @param marked        the pending mark when it had to come before the QMP session (it names the save image)
     * @param saveInSession whether the save is left to the QMP session
     */
    private record MemoryStart(MemorySave memory, DomainCatalog marked, boolean saveInSession) {
    }

    private MemoryStart memoryStart(CreatePlan plan, LibxlDomain libxlDomain, boolean changesDisks, UndoLog undo,
                                    GuestQuiescer.Agent agent) throws IOException, LibxlConfigException,
            CatalogException, DomainControlException, SnapshotException {
        if (plan.memory() == null) {
            return new MemoryStart(null, null, false);
        }
        MemorySave memory = new MemorySave(peers.domains().orElseThrow(), plan.domain().label(),
                libxlDomain.domid(), plan.memory());
        // the mark names the save image before it exists
        DomainCatalog marked = PendingMark.write(peers, plan, libxlDomain, undo, PendingOperation.Kind.CREATE,
                agent.socket().orElse(null));
        return new MemoryStart(memory, marked, saveUnlessInSession(plan, memory, changesDisks, undo));
    }

    /**
     * The save of a snapshot with memory, before the QMP session: libxl's save of an HVM or PVH domain talks to QEMU
     * through the QMP socket under its lock, and its save of any domain takes the device-changes lock. A PV domain
     * whose disks do not change is left to save inside the session ({@code true}), once its queries are answered.
     */
    private boolean saveUnlessInSession(CreatePlan plan, MemorySave memory, boolean changesDisks, UndoLog undo)
            throws IOException, LibxlConfigException, DomainControlException, SnapshotException {
        if (!changesDisks && savesWithoutQemu(plan)) {
            return true;
        }
        memory.save(undo);
        return false;
    }

    /**
     * Whether libxl's save of this domain leaves its QEMU alone: a PV domain's (libxl suspends the device model through
     * QMP only for an HVM or PVH domain). Read from the config the create keeps; a domain libxl keeps none of is
     * treated as one whose save needs QEMU.
     */
    private boolean savesWithoutQemu(CreatePlan plan) throws IOException, LibxlConfigException {
        Path kept = peers.catalogs().domainConfig(plan.domain().uuid(), plan.name());
        if (!Files.isRegularFile(kept)) {
            return false;
        }
        return SavedDomainConfig.shape(Files.readAllBytes(kept), kept.toString()).type().filter("pv"::equals)
                .isPresent();
    }

    /** QEMU's block device for each disk of the plan, in the plan's order, and the transaction's action on it. */
    private record Targets(List<BlockDevice> devices, List<TransactionAction> actions) {
    }

    private Targets targets(CreatePlan plan, List<JsonNode> answers, QmpConnection qmp)
            throws QmpException, SnapshotException {
        requireSnapshotState(plan.domain().label(), VmControl.status(answers.get(0)));
        BlockDevices devices = new BlockDevices(qmp);
        List<BlockDevice> all = BlockDevices.of(answers.get(1), answers.get(2));
        Set<String> nodeNames = new HashSet<>();
        all.forEach(b -> nodeNames.addAll(b.nodeChain()));
        List<BlockDevice> resolved = new ArrayList<>();
        List<TransactionAction> actions = new ArrayList<>();
        for (DiskPlan d : plan.disks()) {
            BlockDevice device = devices.resolve(d.disk().vdev(), all);
            resolved.add(device);
            actions.add(action(plan, d, device, nodeNames));
        }
        return new Targets(resolved, actions);
    }

    /** The transaction with the guest frozen for it alone (when it is frozen at all), thawed whatever its outcome. */
    private GuestQuiescer.Agent.Freeze frozenTransaction(CreatePlan plan, GuestQuiescer.Agent agent, QmpConnection qmp,
            List<TransactionAction> actions, UndoLog undo, MemorySave memory) throws SnapshotException {
        GuestQuiescer.Agent.Freeze freeze = agent.freeze();
        try {
            if (freeze.frozen()) {
                EngineHooks.call(() -> hooks.whileFrozen(plan));
            }
            transaction(plan, qmp, actions, undo, memory);
            freeze.transactionDone();
        } finally {
            freeze.close();
        }
        return freeze;
    }

    /** The one transaction and its three outcomes: applied (returns), refused by QEMU, or unknown (no answer). */
    private void transaction(CreatePlan plan, QmpConnection qmp, List<TransactionAction> actions, UndoLog undo,
                             MemorySave memory) throws SnapshotException {
        String label = plan.domain().label();
        try {
            new SnapshotTransaction(qmp).run(actions);
        } catch (QmpTransactionException e) {
            // QEMU rolled every action back; the overlays it opened are ours, made above, and the undo log
            // removes them through their held directories
            throw Errors.qmp(label + ": snapshot " + plan.name() + " refused, nothing changed", e);
        } catch (QmpException e) {
            if (e.kind() == QmpException.Kind.PRECONDITION) {
                throw Errors.qmp(label, e);
            }
            // The transaction may or may not have been applied: keep the catalog's mark and every file, and
            // let reconcile look at QEMU's chains instead of guessing here. A domain paused for its memory runs
            // again either way: the save image and the mark stay for reconcile.
            undo.commit();
            String paused = memory == null ? "" : memory.resume().map(f -> "; " + f).orElse("");
            throw Errors.qmp(label + ": the outcome of snapshot " + plan.name()
                    + " is unknown (QEMU did not answer)" + paused, e);
        }
    }

    /**
     * Creates every external disk's overlay in its directory as validation checked it, then formats them (in
     * parallel): QEMU opens an existing file by its path and creates nothing, so a directory swapped for a link since
     * the check makes the transaction fail instead of putting an overlay where the link leads.
     */
    private void makeOverlays(CreatePlan plan, List<BlockDevice> devices, List<OverlayFiles.Made> made, UndoLog undo)
            throws IOException, QemuImgException {
        List<Parallel.Step> steps = new ArrayList<>();
        for (int i = 0; i < plan.disks().size(); i++) {
            DiskPlan d = plan.disks().get(i);
            if (d.kind() != SnapshotKind.EXTERNAL) {
                continue;
            }
            OverlayFiles.Made m = peers.overlayFiles().make(d.place());
            made.add(m);
            undo.done("overlay " + m.overlay() + " made for the transaction", m::remove);
            long size = devices.get(i).virtualSize();
            var backing = Images.of(d.disk().image(), d.disk().format());
            steps.add(() -> peers.overlayFiles().format(m, backing, size));
        }
        for (Parallel.Outcome o : Parallel.run(steps, parallelism)) {
            if (!o.ok()) {
                if (o.failure() instanceof QemuImgException q) {
                    throw q;
                }
                if (o.failure() instanceof IOException io) {
                    throw io;
                }
                throw new IllegalStateException("formatting an overlay failed: " + o.failure(), o.failure());
            }
        }
    }

    /** What each disk will get, in the domain's disk order: the pending mark's record of the plan for reconcile. */
    static List<DiskSnapshot> planned(CreatePlan plan) {
        List<DiskSnapshot> out = new ArrayList<>();
        for (DiskView d : plan.domain().disks()) {
            plan.disks().stream().filter(x -> x.disk().vdev().equals(d.vdev())).findFirst().ifPresent(p ->
                    out.add(p.kind() == SnapshotKind.EXTERNAL
                            ? new DiskSnapshot(d.vdev(), SnapshotKind.EXTERNAL, d.image(), d.format(), p.overlay())
                            : new DiskSnapshot(d.vdev(), SnapshotKind.INTERNAL, d.image(), DiskFormat.QCOW2, null)));
        }
        return out;
    }

    private TransactionAction action(CreatePlan plan, DiskPlan d, BlockDevice device, Set<String> nodeNames)
            throws SnapshotException {
        String what = plan.domain().label() + " disk " + d.disk().vdev();
        if (!device.file().equals(d.disk().image().toString())) {
            throw new SnapshotException(SnapshotError.INVALID_STATE, what + ": QEMU serves " + device.file()
                    + " but xenstore says " + d.disk().image() + "; reconcile the domain first");
        }
        if (d.kind() == SnapshotKind.INTERNAL) {
            if (device.hasSnapshot(plan.name())) {
                throw new SnapshotException(SnapshotError.SNAPSHOT_EXISTS,
                        what + ": image " + device.file() + " already holds an internal snapshot named " + plan.name());
            }
            return new TransactionAction.InternalSnapshot(device.target(), plan.name());
        }
        return new TransactionAction.ExternalSnapshot(device.nodeName(), d.overlay(),
                overlayNode(d.disk().vdev(), nodeNames), "qcow2", TransactionAction.ExternalSnapshot.Mode.EXISTING);
    }

    /**
     * A node name for a new overlay: a letter first, at most 31 characters, and none that QEMU has in a disk's chain,
     * or the whole transaction is refused ("New overlay node-name already in use"). A name made from the clock and the
     * snapshot's name once collided with the previous overlay's on creates a few milliseconds apart.
     */
    private static String overlayNode(String vdev, Set<String> nodeNames) {
        while (true) {
            String node = "xs-" + vdev + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffL);
            if (nodeNames.add(node)) {
                return node;
            }
        }
    }

    private SnapshotInfo finish(CreatePlan plan, DomainConfigStore.Session libxl, DomainCatalog marked,
                                Optional<String> resumeFailure, GuestQuiescer.Agent.Freeze freeze)
            throws SnapshotException {
        Outcome outcome = Outcome.of(plan);
        List<String> failures = new ArrayList<>();
        resumeFailure.ifPresent(failures::add);
        // an unconfirmed thaw keeps the pending mark: reconcile then asks the agent and thaws the guest
        freeze.thawProblem().ifPresent(failures::add);
        if (!outcome.libxlDisks().isEmpty()) {
            followOverlays(plan, libxl, outcome.libxlDisks(), failures);
        }
        SnapshotInfo info = new SnapshotInfo(plan.domain().uuid(), plan.name(), plan.description(),
                peers.clock().instant(), marked.current(), outcome.taken(), memoryImage(plan, failures),
                freeze.quiesced(), freeze.frozenFor());
        DomainCatalog done = marked.withSnapshot(info, outcome.after());
        if (failures.isEmpty()) {
            done = done.withPending(Optional.empty());
        }
        boolean catalogUnwritable = false;
        try {
            // not flushed: the mark is durable, and a crash that loses this record leaves reconcile to finish the
            // same snapshot from it (docs/reliability.md, How the catalog reaches the disk)
            peers.catalogs().saveResult(done);
        } catch (CatalogException e) {
            failures.add("the catalog was not updated: " + e.getMessage());
            catalogUnwritable = e.unwritable();
        }
        if (!failures.isEmpty()) {
            // the code names the state directory only when it is all that failed: that is what the operator fixes
            throw new SnapshotException(catalogUnwritable && failures.size() == 1 ? SnapshotError.CATALOG_UNWRITABLE
                    : SnapshotError.INTERNAL, plan.domain().label() + ": snapshot " + plan.name()
                    + " was taken and QEMU uses it, but " + String.join("; ", failures));
        }
        LOG.info("{}: snapshot {} created on {}{}", plan.domain().label(), plan.name(),
                plan.disks().stream().map(p -> p.disk().vdev() + "/" + p.kind()).toList(),
                info.quiesced() ? ", quiesced (guest frozen " + info.frozen().toMillis() + " ms)" : "");
        return info;
    }

    /**
     * The save image as the snapshot records it, with its size and digest; {@code null} for a disk snapshot. Read
     * after the domain runs again: the image does not change after xl wrote it, and the pause stays that short.
     */
    private static MemoryImage memoryImage(CreatePlan plan, List<String> failures) {
        if (plan.memory() == null) {
            return null;
        }
        try {
            return new MemoryImage(plan.memory(), Files.size(plan.memory()), SaveImageDigest.sha256(plan.memory()));
        } catch (IOException e) {
            failures.add("the save image " + plan.memory() + " cannot be read: " + e.getMessage());
            return new MemoryImage(plan.memory(), 0, "");
        }
    }

    /**
     * What the applied transaction did, in the domain's disk order: the snapshot's disks, the image each disk holds
     * now, and the disks libxl's config must name.
     */
    private record Outcome(List<DiskSnapshot> taken, List<DiskImage> after, List<LibxlDisk> libxlDisks) {

        static Outcome of(CreatePlan plan) {
            Outcome out = new Outcome(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (DiskView d : plan.domain().disks()) {
                Optional<DiskPlan> p = plan.disks().stream().filter(x -> x.disk().vdev().equals(d.vdev())).findFirst();
                if (p.isPresent() && p.get().kind() == SnapshotKind.EXTERNAL) {
                    Path overlay = p.get().overlay();
                    out.taken.add(new DiskSnapshot(d.vdev(), SnapshotKind.EXTERNAL, d.image(), d.format(), overlay));
                    out.after.add(new DiskImage(d.vdev(), overlay, DiskFormat.QCOW2));
                    out.libxlDisks.add(new LibxlDisk(d.vdev(), overlay.toString(), LibxlDiskFormat.QCOW2));
                } else {
                    if (p.isPresent()) {
                        out.taken.add(new DiskSnapshot(d.vdev(), SnapshotKind.INTERNAL, d.image(), DiskFormat.QCOW2,
                                null));
                    }
                    if (DiskView.hasImage(d)) {
                        out.after.add(new DiskImage(d.vdev(), d.image(), d.format()));
                    }
                }
            }
            return out;
        }
    }

    /**
     * libxl's config, then the xenstore backend, name the overlays. A failure is collected, not thrown: QEMU uses the
     * overlays already, so the other peers and the catalog are still brought as far as they go.
     */
    private void followOverlays(CreatePlan plan, DomainConfigStore.Session libxl, List<LibxlDisk> libxlDisks,
            List<String> failures) {
        try {
            libxl.setDisks(libxlDisks);
        } catch (LibxlConfigException e) {
            failures.add("libxl's config still names the old images: " + e.getMessage());
        }
        EngineHooks.call(() -> hooks.afterLibxlConfig(plan));
        if (plan.disks().stream().noneMatch(p -> p.kind() == SnapshotKind.EXTERNAL)) {
            // internal snapshots only: the backends keep their images, no connection to open and close
            EngineHooks.call(() -> hooks.afterXenstore(plan));
            return;
        }
        try (XenstoreClient xs = peers.xenstore().open()) {
            DiskImageSwap swap = new DiskImageSwap(xs);
            for (DiskPlan p : plan.disks()) {
                if (p.kind() == SnapshotKind.EXTERNAL) {
                    swap.swap(p.disk().xenstore(), LibxlFormat.QCOW2, p.overlay().toString());
                }
            }
        } catch (XenstoreException e) {
            failures.add("the xenstore backend still names the old images: " + e.getMessage());
        }
        EngineHooks.call(() -> hooks.afterXenstore(plan));
    }

    private static void requireSnapshotState(String label, RunState state) throws SnapshotException {
        if (!SNAPSHOT_STATES.contains(state.status())) {
            throw new SnapshotException(SnapshotError.INVALID_STATE,
                    label + " is in state " + state.status() + "; snapshots need it running or paused");
        }
    }
}
