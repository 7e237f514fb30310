package io.xensnap.internal.jmx;

import javax.management.MBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

/**
 * xensnap over JMX, as {@code io.xensnap:type=snapshots}. Only strings go in, so JConsole can call every operation by
 * hand; open types come out. A domain is its domid while it runs ({@code 7}) or its uuid while it is shut off. Errors
 * are {@code MBeanException}s whose message is {@code [CODE] message}, with no xensnap class on the client's side.
 *
 * <p>Revert and delete send notifications: {@link #STARTED}, {@link #PROGRESS} (a merge's bytes, or disks done),
 * then {@link #FINISHED} or {@link #FAILED}; their user data is a {@link #OPERATION} composite.
 */
public interface SnapshotsMBean {

    String OBJECT_NAME = "io.xensnap:type=snapshots";

    String STARTED = "io.xensnap.operation.started";
    String PROGRESS = "io.xensnap.operation.progress";
    String FINISHED = "io.xensnap.operation.finished";
    String FAILED = "io.xensnap.operation.failed";
    /** A schedule's run ended; the message is its summary, the user data the schedule's name. */
    String SCHEDULE_RAN = "io.xensnap.schedule.ran";

    /** Items of a snapshot ({@link #getSnapshot}) and of a row of {@link #listSnapshots}. */
    String DOMAIN = "domain";
    String NAME = "name";
    String DESCRIPTION = "description";
    String CREATED = "created";
    String PARENT = "parent";
    String CURRENT = "current";
    String DISKS = "disks";
    /** A domain snapshot's save image, empty for a disk snapshot, and its size in bytes (0 for none). */
    String MEMORY_IMAGE = "memoryImage";
    String MEMORY_BYTES = "memoryBytes";

    /**
     * Space items of a snapshot, of a row of {@link #listSnapshots} and of a snapshot's disk: the bytes only it holds,
     * the bytes deleting it would give back, {@code exact}, {@code estimate} or {@code unknown}, and when the images
     * were read (ISO-8601, UTC; figures of a running domain's images are as of then). A created snapshot is not
     * counted: 0, 0 and empty strings.
     */
    String HELD = "held";
    String FREED = "freed";
    String SPACE_ACCURACY = "spaceAccuracy";
    String SPACE_READ_AT = "spaceReadAt";
    /** A disk's note: why its space is an estimate or unknown; empty when exact. */
    String SPACE_NOTE = "spaceNote";
    /** Whether the guest was frozen through its agent for the whole snapshot. */
    String QUIESCED = "quiesced";
    /** How long the guest was frozen for the snapshot, in milliseconds; 0 when it was not. */
    String FROZEN_MS = "frozenMs";

    /** Items of a disk: of a snapshot's disk table, and of the table {@link #revertSnapshot} returns. */
    String VDEV = "vdev";
    String KIND = "kind";
    String IMAGE = "image";
    String FORMAT = "format";
    String OVERLAY = "overlay";

    /** Items of a notification's user data. */
    String OPERATION = "operation";
    String SNAPSHOT = "snapshot";
    String STEP = "step";
    String DONE = "done";
    String TOTAL = "total";
    String UNIT = "unit";
    String ERROR = "error";

    /**
     * Snapshots the disks of a domain, all at once.
     *
     * @param disks empty for every writable disk with the defaults (internal for qcow2, an overlay beside the image for
     *              raw), or e.g. {@code xvda:internal,xvdb:external,xvdc:external:/var/lib/xen/images/c.s1.qcow2}
     * @return the new snapshot
     */
    CompositeData createSnapshot(String domain, String name, String description, String disks) throws MBeanException;

    /**
     * As {@link #createSnapshot(String, String, String, String)}, as a domain snapshot: the running domain's memory is
     * saved too, at the same instant as its disks, so that a revert resumes it. A name of its own, not an overload:
     * Jolokia and other clients that call an operation by name alone refuse an overloaded one.
     */
    CompositeData createSnapshotWithMemory(String domain, String name, String description, String disks)
            throws MBeanException;

    /**
     * As {@link #createSnapshot(String, String, String, String)}, with the quiesce policy. A name of its own, not an
     * overload: Jolokia and other clients that call an operation by name alone refuse an overloaded one.
     *
     * @param quiesce {@code never}, {@code try} or {@code require} (freeze the guest's file systems through its agent
     *                while the disks are snapshotted); empty for the configured default
     */
    CompositeData createSnapshotWithQuiesce(String domain, String name, String description, String disks,
                                            String quiesce) throws MBeanException;

    /**
     * Brings the disks of a shut-off domain back to a snapshot.
     *
     * @return the image each disk must now be started from ({@value #VDEV}, {@value #IMAGE}, {@value #FORMAT})
     */
    TabularData revertSnapshot(String domain, String name) throws MBeanException;

    /**
     * Destroys the domain if it runs, brings its disks back to a disk-only snapshot and boots it again from the libxl
     * config the snapshot kept.
     *
     * @return the image each disk runs on ({@value #VDEV}, {@value #IMAGE}, {@value #FORMAT})
     */
    TabularData revertSnapshotAndRestart(String domain, String name) throws MBeanException;

    /** Deletes a snapshot; external ones are merged, so the domain's data stays as it is. */
    void deleteSnapshot(String domain, String name) throws MBeanException;

    /**
     * @return one row per snapshot; {@value #PARENT} gives the tree, {@value #CURRENT} the domain's current one,
     *         {@value #HELD} and {@value #FREED} its space (read from its images now, without a lock)
     */
    TabularData listSnapshots(String domain) throws MBeanException;

    /** @return the snapshot with a table of its disks, and its space per disk and in all */
    CompositeData getSnapshot(String domain, String name) throws MBeanException;

    /**
     * @return libxl's config of the domain (its JSON) as it was when the snapshot was taken; empty when the snapshot
     *         keeps none. It may hold secrets of the domain's config: an admin's operation.
     */
    String getDomainConfig(String domain, String name) throws MBeanException;

    /**
     * Checks one domain after a crash: settles an interrupted create or delete where the disks prove the outcome,
     * removes empty overlays of xensnap's that nothing uses, and reports everything else without touching it.
     *
     * @return {@code <uuid> clean}, or one {@code <uuid> [CODE] subject: detail} per finding, with {@code (repaired)}
     *         appended to what was repaired
     */
    String[] reconcile(String domain) throws MBeanException;

    /** @return as {@link #reconcile}, for every domain with a snapshot catalog */
    String[] reconcileAll() throws MBeanException;

    /**
     * @return one line per schedule ({@code etc/io.xensnap.schedule-<name>.cfg}): {@code name | 'cron' zone | next
     *         <time> | last <result>}; empty when none is configured
     */
    String[] getSchedules();

    /**
     * Runs a schedule now (after a run in progress) and waits for it; its next time stays as it was.
     *
     * @return the run's summary: {@code ok: N created, M deleted} or the failures, one per domain
     */
    String runSchedule(String name) throws MBeanException;
}
