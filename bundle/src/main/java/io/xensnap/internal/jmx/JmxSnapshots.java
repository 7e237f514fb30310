package io.xensnap.internal.jmx;

import static io.xensnap.internal.jmx.SnapshotsMBean.CREATED;
import static io.xensnap.internal.jmx.SnapshotsMBean.CURRENT;
import static io.xensnap.internal.jmx.SnapshotsMBean.FROZEN_MS;
import static io.xensnap.internal.jmx.SnapshotsMBean.QUIESCED;
import static io.xensnap.internal.jmx.SnapshotsMBean.DESCRIPTION;
import static io.xensnap.internal.jmx.SnapshotsMBean.DISKS;
import static io.xensnap.internal.jmx.SnapshotsMBean.DOMAIN;
import static io.xensnap.internal.jmx.SnapshotsMBean.DONE;
import static io.xensnap.internal.jmx.SnapshotsMBean.ERROR;
import static io.xensnap.internal.jmx.SnapshotsMBean.FORMAT;
import static io.xensnap.internal.jmx.SnapshotsMBean.FREED;
import static io.xensnap.internal.jmx.SnapshotsMBean.HELD;
import static io.xensnap.internal.jmx.SnapshotsMBean.IMAGE;
import static io.xensnap.internal.jmx.SnapshotsMBean.KIND;
import static io.xensnap.internal.jmx.SnapshotsMBean.MEMORY_BYTES;
import static io.xensnap.internal.jmx.SnapshotsMBean.MEMORY_IMAGE;
import static io.xensnap.internal.jmx.SnapshotsMBean.NAME;
import static io.xensnap.internal.jmx.SnapshotsMBean.OPERATION;
import static io.xensnap.internal.jmx.SnapshotsMBean.OVERLAY;
import static io.xensnap.internal.jmx.SnapshotsMBean.PARENT;
import static io.xensnap.internal.jmx.SnapshotsMBean.SNAPSHOT;
import static io.xensnap.internal.jmx.SnapshotsMBean.SPACE_ACCURACY;
import static io.xensnap.internal.jmx.SnapshotsMBean.SPACE_NOTE;
import static io.xensnap.internal.jmx.SnapshotsMBean.SPACE_READ_AT;
import static io.xensnap.internal.jmx.SnapshotsMBean.STEP;
import static io.xensnap.internal.jmx.SnapshotsMBean.TOTAL;
import static io.xensnap.internal.jmx.SnapshotsMBean.UNIT;
import static io.xensnap.internal.jmx.SnapshotsMBean.VDEV;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularData;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;

import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

/**
 * The open types of the snapshots MBean, built once, and the conversions into them. Absent values are empty strings:
 * open types have no nulls that every JMX client shows well. Descriptions and paths are escaped ({@link Visible}):
 * JConsole and {@code bin/client}'s jmx commands print them on a terminal.
 */
final class JmxSnapshots {

    static final CompositeType DISK;
    static final TabularType DISK_TABLE;
    static final CompositeType SNAPSHOT_TYPE;
    static final CompositeType SNAPSHOT_ROW;
    static final TabularType SNAPSHOT_TABLE;
    static final CompositeType IMAGE_TYPE;
    static final TabularType IMAGE_TABLE;
    static final CompositeType OPERATION_TYPE;
    private static final String QUIESCED_HELP = "whether the guest's file systems were frozen through its agent for"
            + " the whole snapshot (application-consistent)";
    private static final String FROZEN_HELP = "how long the guest was frozen for the snapshot, ms; 0 when it was not";

    static {
        try {
            // the space items come after the first ones: a client that reads items by name sees the old ones unchanged
            DISK = type("xensnap.DiskSnapshot", "what a snapshot holds for one disk",
                    new String[] {VDEV, KIND, IMAGE, FORMAT, OVERLAY, HELD, FREED, SPACE_ACCURACY, SPACE_NOTE},
                    new String[] {"the disk", "internal or external", "internal: the image holding the snapshot;"
                            + " external: the image the snapshot froze", "format of the image",
                            "external: the overlay that took the disk's writes; empty for internal",
                            "bytes of guest data only this snapshot holds on this disk",
                            "bytes deleting the snapshot would give back on this disk",
                            "exact, estimate or unknown; empty when not counted",
                            "why the space is an estimate or unknown; empty when exact"},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.STRING,
                            SimpleType.STRING, SimpleType.LONG, SimpleType.LONG, SimpleType.STRING,
                            SimpleType.STRING});
            DISK_TABLE = new TabularType("xensnap.DiskSnapshots", "the disks of a snapshot", DISK, new String[] {VDEV});
            SNAPSHOT_TYPE = type("xensnap.Snapshot", "a snapshot of a domain",
                    new String[] {DOMAIN, NAME, DESCRIPTION, CREATED, PARENT, CURRENT, DISKS, HELD, FREED,
                            SPACE_ACCURACY, SPACE_READ_AT, MEMORY_IMAGE, MEMORY_BYTES, QUIESCED, FROZEN_MS},
                    new String[] {"the domain's uuid", "the snapshot's name", "free text", "when it was taken"
                            + " (ISO-8601, UTC)", "the snapshot it was taken on top of; empty for a root",
                            "whether the domain's disks are at this snapshot", "its disks",
                            "bytes only this snapshot holds", "bytes deleting it would give back",
                            "exact, estimate or unknown (the least of its disks'); empty when not counted",
                            "when its images were read (ISO-8601, UTC); empty when not counted",
                            "a domain snapshot's save image (memory); empty for a disk snapshot",
                            "the save image's size in bytes; 0 for a disk snapshot", QUIESCED_HELP, FROZEN_HELP},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.STRING,
                            SimpleType.STRING, SimpleType.BOOLEAN, DISK_TABLE, SimpleType.LONG, SimpleType.LONG,
                            SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.LONG,
                            SimpleType.BOOLEAN, SimpleType.LONG});
            SNAPSHOT_ROW = type("xensnap.SnapshotRow", "a snapshot in a domain's list",
                    new String[] {NAME, PARENT, CREATED, CURRENT, DISKS, DESCRIPTION, HELD, FREED, SPACE_ACCURACY,
                            SPACE_READ_AT, MEMORY_BYTES, QUIESCED, FROZEN_MS},
                    new String[] {"the snapshot's name", "the snapshot it was taken on top of; empty for a root",
                            "when it was taken (ISO-8601, UTC)", "whether the domain's disks are at this snapshot",
                            "its disks, e.g. xvda:internal,xvdb:external:/path/overlay.qcow2", "free text",
                            "bytes only this snapshot holds", "bytes deleting it would give back",
                            "exact, estimate or unknown (the least of its disks')",
                            "when its images were read (ISO-8601, UTC)",
                            "a domain snapshot's save image size in bytes; 0 for a disk snapshot", QUIESCED_HELP,
                            FROZEN_HELP},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.BOOLEAN,
                            SimpleType.STRING, SimpleType.STRING, SimpleType.LONG, SimpleType.LONG, SimpleType.STRING,
                            SimpleType.STRING, SimpleType.LONG, SimpleType.BOOLEAN, SimpleType.LONG});
            SNAPSHOT_TABLE = new TabularType("xensnap.Snapshots", "the snapshots of a domain", SNAPSHOT_ROW,
                    new String[] {NAME});
            IMAGE_TYPE = type("xensnap.DiskImage", "the image a disk must be started from",
                    new String[] {VDEV, IMAGE, FORMAT}, new String[] {"the disk", "the image", "its format"},
                    strings(3));
            IMAGE_TABLE = new TabularType("xensnap.DiskImages", "the image of each disk", IMAGE_TYPE,
                    new String[] {VDEV});
            OPERATION_TYPE = type("xensnap.Operation", "a long operation as it progresses",
                    new String[] {OPERATION, DOMAIN, SNAPSHOT, STEP, DONE, TOTAL, UNIT, ERROR},
                    new String[] {"revert or delete", "the domain as the caller named it", "the snapshot",
                            "progress only: what is being done or was just finished, e.g. merge xvdb",
                            "progress only: how much is done", "progress only: how much there is",
                            "what done and total count: bytes (a running merge) or disks",
                            "failed only: [CODE] message"},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.STRING,
                            SimpleType.LONG, SimpleType.LONG, SimpleType.STRING, SimpleType.STRING});
        } catch (OpenDataException e) {
            throw new IllegalStateException("the xensnap open types are malformed", e);
        }
    }

    private JmxSnapshots() {
    }

    /** @return the snapshot without its space (a create's result: a new snapshot is not counted) */
    static CompositeData snapshot(SnapshotInfo s, boolean current) {
        return snapshot(s, current, Optional.empty());
    }

    static CompositeData snapshot(SnapshotInfo s, boolean current, Optional<SnapshotSpace> space) {
        Map<String, SnapshotSpace.Disk> byVdev = space.map(sp -> sp.disks().stream()
                .collect(Collectors.toMap(SnapshotSpace.Disk::vdev, Function.identity()))).orElse(Map.of());
        TabularDataSupport disks = new TabularDataSupport(DISK_TABLE);
        for (DiskSnapshot d : s.disks()) {
            SnapshotSpace.Disk ds = byVdev.get(d.vdev());
            disks.put(data(DISK, new String[] {VDEV, KIND, IMAGE, FORMAT, OVERLAY, HELD, FREED, SPACE_ACCURACY,
                            SPACE_NOTE},
                    d.vdev(), d.kind().name().toLowerCase(Locale.ROOT), Visible.text(d.image()), d.format().id(),
                    Visible.text(d.overlay()), ds == null ? 0L : ds.held(), ds == null ? 0L : ds.freed(),
                    ds == null ? "" : accuracy(ds.accuracy()), ds == null ? "" : Visible.text(ds.note())));
        }
        return data(SNAPSHOT_TYPE, new String[] {DOMAIN, NAME, DESCRIPTION, CREATED, PARENT, CURRENT, DISKS, HELD,
                        FREED, SPACE_ACCURACY, SPACE_READ_AT, MEMORY_IMAGE, MEMORY_BYTES, QUIESCED, FROZEN_MS},
                s.domainUuid(), s.name(), Visible.text(s.description()), s.created().toString(), orEmpty(s.parent()),
                current, disks, space.map(SnapshotSpace::held).orElse(0L), space.map(SnapshotSpace::freed).orElse(0L),
                space.map(sp -> accuracy(sp.accuracy())).orElse(""),
                space.map(sp -> sp.readAt().toString()).orElse(""),
                s.memory() == null ? "" : Visible.text(s.memory().image()),
                s.memory() == null ? 0L : s.memory().sizeBytes(), s.quiesced(), s.frozen().toMillis());
    }

    /** @param spaces the space of each snapshot, by name; a snapshot without one shows 0 and empty strings */
    static TabularData snapshots(SnapshotTree tree, List<SnapshotSpace> spaces) {
        Map<String, SnapshotSpace> byName = spaces.stream()
                .collect(Collectors.toMap(SnapshotSpace::snapshot, Function.identity()));
        TabularDataSupport rows = new TabularDataSupport(SNAPSHOT_TABLE);
        for (SnapshotInfo s : tree.snapshots()) {
            Optional<SnapshotSpace> space = Optional.ofNullable(byName.get(s.name()));
            rows.put(data(SNAPSHOT_ROW, new String[] {NAME, PARENT, CREATED, CURRENT, DISKS, DESCRIPTION, HELD, FREED,
                            SPACE_ACCURACY, SPACE_READ_AT, MEMORY_BYTES, QUIESCED, FROZEN_MS},
                    s.name(), orEmpty(s.parent()), s.created().toString(), s.name().equals(tree.current()),
                    Visible.text(UserInput.describe(s.disks())), Visible.text(s.description()),
                    space.map(SnapshotSpace::held).orElse(0L), space.map(SnapshotSpace::freed).orElse(0L),
                    space.map(sp -> accuracy(sp.accuracy())).orElse(""),
                    space.map(sp -> sp.readAt().toString()).orElse(""),
                    s.memory() == null ? 0L : s.memory().sizeBytes(), s.quiesced(), s.frozen().toMillis()));
        }
        return rows;
    }

    private static String accuracy(SnapshotSpace.Accuracy a) {
        return a.name().toLowerCase(Locale.ROOT);
    }

    static TabularData images(List<DiskImage> disks) {
        TabularDataSupport rows = new TabularDataSupport(IMAGE_TABLE);
        for (DiskImage d : disks) {
            rows.put(data(IMAGE_TYPE, new String[] {VDEV, IMAGE, FORMAT}, d.vdev(), Visible.text(d.image()),
                    d.format().id()));
        }
        return rows;
    }

    static CompositeData operation(String operation, String domain, String snapshot, String step, long done,
                                   long total, String unit, String error) {
        return data(OPERATION_TYPE, new String[] {OPERATION, DOMAIN, SNAPSHOT, STEP, DONE, TOTAL, UNIT, ERROR},
                operation, domain, snapshot, step, done, total, unit, error);
    }

    private static CompositeData data(CompositeType type, String[] names, Object... values) {
        try {
            return new CompositeDataSupport(type, names, values);
        } catch (OpenDataException e) {
            throw new IllegalStateException("value does not fit " + type.getTypeName() + ": " + e.getMessage(), e);
        }
    }

    private static CompositeType type(String name, String description, String[] items, String[] descriptions,
                                      OpenType<?>[] types) throws OpenDataException {
        return new CompositeType(name, description, items, descriptions, types);
    }

    private static OpenType<?>[] strings(int n) {
        OpenType<?>[] t = new OpenType<?>[n];
        Arrays.fill(t, SimpleType.STRING);
        return t;
    }

    private static String orEmpty(String s) {
        return Objects.toString(s, "");
    }
}
