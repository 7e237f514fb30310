package io.xensnap.internal.schedule;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * One schedule: a factory configuration of PID {@code io.xensnap.schedule}, one file
 * {@code etc/io.xensnap.schedule-<name>.cfg} each. Method names map to keys with {@code _} as {@code .}. Checked by
 * {@link Schedule#from}; a bad one is logged and not scheduled.
 */
@ObjectClassDefinition(name = "xensnap schedule", description = "Snapshots"
        + " taken by themselves at the times of a cron expression, and the oldest of them deleted again.")
@interface ScheduleConfiguration {

    /** The factory PID. */
    String PID = "io.xensnap.schedule";

    @AttributeDefinition(name = "Name", required = false, description = "Empty: the <name> of the file"
            + " io.xensnap.schedule-<name>.cfg. Letters, digits, '_' and '-', at most 47; the schedule's snapshots are"
            + " named <name>-<UTC time>, e.g. nightly-20260101T020000Z.")
    String name() default "";

    @AttributeDefinition(name = "Domains", description = "Running domains to snapshot: 'all', or uuids and name"
            + " patterns ('web-*', '?' for one character), comma-separated.")
    String[] domains() default {"all"};

    @AttributeDefinition(name = "Cron expression", description = "minute hour day-of-month month day-of-week, or"
            + " with seconds first; '*', numbers, ranges a-b, steps */n and lists. Example: '0 2 * * *' (02:00 daily).")
    String cron();

    @AttributeDefinition(name = "Time zone", description = "The zone the cron expression is read in (e.g."
            + " Europe/Paris). Snapshot names are in UTC whatever it is.")
    String time_zone() default "UTC";

    @AttributeDefinition(name = "Kind", description = "'default': internal for qcow2 disks, an external overlay"
            + " beside the image for raw ones; 'internal' or 'external': for the disks listed in 'disks'.",
            options = {@Option(value = "default"), @Option(value = "internal"), @Option(value = "external")})
    String kind() default "default";

    @AttributeDefinition(name = "Disks", required = false, description = "The disks (xvda, ...); empty: every"
            + " writable disk (then kind must be 'default').")
    String[] disks() default {};

    @AttributeDefinition(name = "Keep last", min = "1", description = "How many of its own newest snapshots per"
            + " domain the schedule keeps.")
    int keep_last() default 7;

    @AttributeDefinition(name = "Keep daily", min = "0", description = "Besides: the newest of each of this many"
            + " days (in the time zone).")
    int keep_daily() default 0;

    @AttributeDefinition(name = "Keep weekly", min = "0", description = "Besides: the newest of each of this many"
            + " ISO weeks.")
    int keep_weekly() default 0;
}
