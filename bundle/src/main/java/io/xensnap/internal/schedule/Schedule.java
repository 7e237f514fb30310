package io.xensnap.internal.schedule;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.Names;
import io.xensnap.api.SnapshotRequest;

/**
 * A schedule as configured and checked.
 *
 * @param name      its name, the prefix of its snapshots' names
 * @param domains   which running domains it takes
 * @param cron      when
 * @param zone      the zone {@code cron} is read in
 * @param kind      {@code default}, {@code internal} or {@code external}
 * @param disks     the disks; empty for every writable disk with the engine's defaults
 * @param retention what it keeps of its own snapshots
 */
public record Schedule(String name, DomainSelector domains, Cron cron, ZoneId zone, String kind, List<String> disks,
                       Retention retention) {

    /** The UTC time in a snapshot's name: sorts as it reads, and fits snapshot names ({@code [A-Za-z0-9._-]}). */
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final String NAME = "[A-Za-z0-9_][A-Za-z0-9_-]{0,46}";

    public Schedule {
        Objects.requireNonNull(domains, "domains");
        Objects.requireNonNull(cron, "cron");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(retention, "retention");
        disks = List.copyOf(disks);
        if (name == null || !name.matches(NAME) || name.startsWith("xensnap")) {
            throw new IllegalArgumentException("schedule name '" + name + "': letters, digits, '_' and '-', at most"
                    + " 47, not starting with '-' or 'xensnap'");
        }
        if (!List.of("default", "internal", "external").contains(kind)) {
            throw new IllegalArgumentException("kind '" + kind + "': default, internal or external");
        }
        if (disks.isEmpty() != kind.equals("default")) {
            throw new IllegalArgumentException("kind '" + kind + "' with disks " + disks + ": 'default' takes every"
                    + " writable disk (leave disks empty); 'internal' and 'external' need the disks listed");
        }
        for (String d : disks) {
            Names.vdev(d);
        }
    }

    /**
     * @param name  the schedule's name, from {@link #nameOf} when the configuration does not give one
     * @throws IllegalArgumentException saying which key is wrong
     */
    static Schedule from(ScheduleConfiguration c, String name) {
        ZoneId zone;
        try {
            zone = ZoneId.of(c.time_zone().trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("time.zone '" + c.time_zone() + "': " + e.getMessage());
        }
        return new Schedule(name, new DomainSelector(split(c.domains())), Cron.parse(c.cron()), zone,
                c.kind().trim(), split(c.disks()), new Retention(c.keep_last(), c.keep_daily(), c.keep_weekly()));
    }

    /**
     * @return the configured name, else the {@code <name>} of {@code io.xensnap.schedule~<name>} (how Karaf's file
     *         installer names the configuration of {@code io.xensnap.schedule-<name>.cfg}), else empty
     */
    static String nameOf(String configured, Map<String, Object> properties) {
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        String pid = String.valueOf(properties.get("service.pid"));
        int tilde = pid.indexOf('~');
        if (tilde >= 0) {
            return pid.substring(tilde + 1);
        }
        String file = String.valueOf(properties.get("felix.fileinstall.filename"));
        int dash = file.lastIndexOf(PID_FILE_PREFIX);
        if (dash >= 0 && file.endsWith(".cfg")) {
            return file.substring(dash + PID_FILE_PREFIX.length(), file.length() - 4);
        }
        return "";
    }

    private static final String PID_FILE_PREFIX = ScheduleConfiguration.PID + "-";

    /** @return the request of one run for {@code domain} at {@code at} */
    SnapshotRequest request(DomainRef domain, Instant at) {
        String snapshot = name + "-" + STAMP.format(at);
        String description = "taken by schedule " + name;
        if (disks.isEmpty()) {
            return SnapshotRequest.allDisks(domain, snapshot, description);
        }
        List<DiskSpec> specs = new ArrayList<>();
        for (String d : disks) {
            specs.add(kind.equals("internal") ? DiskSpec.internal(d) : DiskSpec.external(d, null));
        }
        return new SnapshotRequest(domain, snapshot, description, specs);
    }

    /** A cfg gives one comma-separated text, ConfigAdmin an array: both are read. */
    private static List<String> split(String[] values) {
        List<String> out = new ArrayList<>();
        for (String v : values == null ? new String[0] : values) {
            for (String part : (v == null ? "" : v).split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }
}
