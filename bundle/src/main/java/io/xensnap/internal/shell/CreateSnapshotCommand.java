package io.xensnap.internal.shell;

import java.io.PrintStream;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import java.util.List;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.surface.UserInput;

@Command(scope = "snapshot", name = "create", description = "Snapshots the disks of a Xen domain, all at once.",
        detailedDescription = "Takes a snapshot of every writable disk of a domain, or of the disks you name, as one"
                + " atomic step: all disks are captured at the same instant, or none is.\n\n"
                + "Two kinds per disk:\n"
                + "  internal  the snapshot is stored inside the qcow2 image itself (qcow2 disks only)\n"
                + "  external  the image is frozen and a new qcow2 overlay file takes the disk's writes from now on\n"
                + "By default qcow2 disks get internal snapshots and raw disks an overlay beside the image\n"
                + "(/images/disk.raw -> /images/disk.<snapshot>.qcow2). Overlays may only be created below the\n"
                + "directories of the configuration key overlay.roots (etc/io.xensnap.cfg).\n\n"
                + "A running domain is snapshotted live through QEMU; a shut-off one with qemu-img. For a shut-off"
                + " domain the command prints the image each snapshotted disk must be started from: an external"
                + " snapshot moves the disk to its overlay, so update the domain's config.\n\n"
                + "With --memory the snapshot is a domain snapshot: the running domain's memory and device state are"
                + " saved with its disks, at one instant (xl save -p; the domain is paused from the save until its"
                + " disks are snapshotted), and a revert brings the domain back running at that instant. Every"
                + " writable disk must be in it; the save image is kept in the state directory (state.dir).\n\n"
                + "Examples:\n"
                + "  snapshot:create 7 before-upgrade\n"
                + "  snapshot:create -d \"nightly\" --disks xvda:internal,xvdb:external 7 nightly-1\n"
                + "  snapshot:create --disks xvdb:external:/var/lib/xen/images/b-1.qcow2 7 s1\n"
                + "  snapshot:create --memory 7 before-upgrade\n"
                + "  snapshot:create --quiesce require 7 consistent-1")
@Service
public class CreateSnapshotCommand extends SnapshotCommandSupport {

    @Argument(index = 0, name = "domain", required = true, description = DOMAIN_HELP)
    @Completion(DomainCompleter.class)
    String domain;

    @Argument(index = 1, name = "name", required = true, description = "The new snapshot's name: 1 to 64 of A-Z a-z"
            + " 0-9 . _ -, not starting with . or -, not all digits. Unique per domain.")
    String name;

    @Option(name = "-d", aliases = "--description", description = "Free text kept with the snapshot.")
    String description = "";

    @Option(name = "--disks", description = "Which disks and how, comma-separated: vdev:internal, vdev:external or"
            + " vdev:external:/absolute/overlay.qcow2. Default: every writable disk (internal for qcow2, external"
            + " for raw).")
    String disks = "";

    @Option(name = "--memory", description = "A domain snapshot: the running domain's memory too, so that a revert"
            + " resumes it where it was. Not frozen through the agent: the memory holds what the guest has not"
            + " written yet.")
    boolean memory;

    @Option(name = "--quiesce", description = "Freeze the guest's file systems through its agent (qemu-ga on the"
            + " libxl channel org.qemu.guest_agent.0) while the disks are snapshotted: never; try (freeze when the"
            + " agent answers, otherwise snapshot without); require (refuse the snapshot unless the guest is frozen)."
            + " Default: the configuration key quiesce (try).")
    String quiesce;

    @Override
    void run(PrintStream out) throws SnapshotException {
        SnapshotRequest request = UserInput.request(domain, name, description, disks, memory, quiesce);
        SnapshotInfo info = snapshots.create(request);
        out.println("Created snapshot " + info.name() + " of domain " + domain.trim() + " (" + info.domainUuid()
                + "), quiesced: " + Describe.quiesced(info) + ":");
        for (DiskSnapshot d : info.disks()) {
            out.println("  " + Describe.disk(d));
        }
        if (info.memory() != null) {
            out.println("  " + Describe.memory(info.memory()));
        }
        if (request.domain() instanceof DomainRef.ShutOff) {
            // a running domain's config and xenstore were updated; a shut-off one has only its xl config, which is
            // the operator's to change
            out.println("Start the disks from:");
            Describe.startFrom(out, startFrom(info.disks()));
        }
    }

    /** @return the image each disk of the snapshot runs on from now: its new overlay, or its image for internal */
    private static List<DiskImage> startFrom(List<DiskSnapshot> disks) {
        return disks.stream().map(d -> d.kind() == SnapshotKind.EXTERNAL
                ? new DiskImage(d.vdev(), d.overlay(), DiskFormat.QCOW2)
                : new DiskImage(d.vdev(), d.image(), d.format())).toList();
    }
}
