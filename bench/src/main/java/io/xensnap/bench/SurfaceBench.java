package io.xensnap.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;

import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealQemu;
import io.xensnap.internal.engine.SnapshotEngine;

/**
 * Item 2: the create of section 1 through the surfaces a user or a tool reaches from outside Karaf, against the
 * provider called in this JVM as the base. Three identical Xen-like domains, one per path (each engine keeps its own
 * QMP connection and catalog), runs alternating in a rotating order:
 * <ul>
 *   <li>provider: {@code DiskSnapshotProvider.create} in the bench JVM (as {@link CreateBench} does);</li>
 *   <li>JMX: {@code createSnapshot} on {@code io.xensnap:type=snapshots} in the bench's Karaf over one RMI connector
 *       kept open, a client's steady state (the connect is timed separately);</li>
 *   <li>console: {@code bin/client -b} with one {@code snapshot:create} on stdin (what a user or a script pays: a JVM
 *       start, ssh login, the command) and with K of them, so that {@code (t_K − t_1)/(K−1)} is the command's own cost
 *       inside a session.</li>
 * </ul>
 * Every snapshot is deleted again after its run, untimed (provider: engine delete; Karaf: the MBean).
 */
final class SurfaceBench {

    /** One row: the timings of one disk count and kind. */
    record Cell(int disks, SnapshotKind kind, Stats provider, Stats jmx, Stats client1, Stats clientK,
                Stats perCommand, Stats difference) {
    }

    private static final String DESCRIPTION = "bench";
    /** The first line snapshot:create prints. */
    private static final String CREATED = "Created snapshot";
    /** The line the console session prints its clock readings on. */
    private static final String STAMPS = "XSBSTAMPS";

    private final BenchHost host;
    private final KarafHost karaf;
    private final Runs runs;
    private final int k;
    private final List<Cell> cells = new ArrayList<>();
    private Stats connect;
    private final List<Integer> counts = new ArrayList<>();

    /** @param k commands in the longer {@code bin/client} session (at least 2) */
    SurfaceBench(BenchHost host, KarafHost karaf, Runs runs, int k) {
        if (k < 2) {
            throw new IllegalArgumentException("k " + k);
        }
        this.host = host;
        this.karaf = karaf;
        this.runs = runs;
        this.k = k;
    }

    void run(int... diskCounts) throws Exception {
        SnapshotEngine engine = host.engine(null, 2);
        try (JMXConnector c = karaf.connect()) {
            MBeanServerConnection mbs = c.getMBeanServerConnection();
            for (int n : diskCounts) {
                counts.add(n);
                RealQemu provider = host.domain(1100 + n, n);
                RealQemu jmx = host.domain(1200 + n, n);
                RealQemu console = host.domain(1300 + n, n);
                Runs r = n >= 16 ? runs.scaled(0.5) : runs;
                try {
                    for (SnapshotKind kind : List.of(SnapshotKind.INTERNAL, SnapshotKind.EXTERNAL)) {
                        measure(n, kind, engine, mbs, provider, jmx, console, r);
                    }
                } finally {
                    host.stop(provider);
                    host.stop(jmx);
                    host.stop(console);
                }
            }
        }
        connect = measureConnect();
    }

    private void measure(int n, SnapshotKind kind, SnapshotEngine engine, MBeanServerConnection mbs, RealQemu pq,
                         RealQemu jq, RealQemu cq, Runs r) throws Exception {
        int pd = 1100 + n;
        int jd = 1200 + n;
        int cd = 1300 + n;
        Map<String, List<Long>> t = new TreeMap<>();
        for (String key : List.of("provider", "jmx", "client1", "clientK", "perCommand", "difference")) {
            t.put(key, new ArrayList<>());
        }
        for (int i = 0; i < r.total(); i++) {
            String base = (kind == SnapshotKind.INTERNAL ? "i" : "e") + i;
            List<String> consoleMade = new ArrayList<>();
            long[] ns = new long[4];
            long inSession = 0;
            for (int step = 0; step < 4; step++) {
                // rotate the order per run, so that drift and the after-effects of one path hit every path
                int path = (step + i) % 4;
                switch (path) {
                    case 0 -> {
                        List<DiskSpec> specs = new ArrayList<>();
                        for (RealQemu.Disk d : pq.disks()) {
                            specs.add(kind == SnapshotKind.INTERNAL ? DiskSpec.internal(d.id())
                                    : DiskSpec.external(d.id(), overlay(d, base)));
                        }
                        SnapshotRequest req = new SnapshotRequest(DomainRef.running(pd), base, DESCRIPTION, specs);
                        long t0 = System.nanoTime();
                        engine.create(req);
                        ns[0] = System.nanoTime() - t0;
                    }
                    case 1 -> {
                        Object[] args = {Integer.toString(jd), base, DESCRIPTION, disks(jq, kind, base)};
                        long t0 = System.nanoTime();
                        mbs.invoke(KarafHost.SNAPSHOTS, "createSnapshot", args, new String[] {String.class.getName(),
                                String.class.getName(), String.class.getName(), String.class.getName()});
                        ns[1] = System.nanoTime() - t0;
                    }
                    case 2 -> {
                        String name = base + "a";
                        ns[2] = console(List.of(create(cq, cd, kind, name)), 1).nanos();
                        consoleMade.add(name);
                    }
                    default -> {
                        // Gogo script around the creates: System.nanoTime() inside Karaf before each one and after
                        // the last, printed at the end, times the commands in the session without the client's start
                        List<String> commands = new ArrayList<>();
                        commands.add("xsbclock = ((((new java.lang.StringBuilder) getClass) forName java.lang.System)"
                                + " getMethod nanoTime)");
                        StringBuilder echo = new StringBuilder("echo " + STAMPS);
                        for (int j = 0; j < k; j++) {
                            String name = base + "b" + j;
                            commands.add("xsbt" + j + " = ($xsbclock invoke $null)");
                            commands.add(create(cq, cd, kind, name));
                            consoleMade.add(name);
                            echo.append(" $xsbt").append(j);
                        }
                        commands.add("xsbt" + k + " = ($xsbclock invoke $null)");
                        commands.add(echo.append(" $xsbt").append(k).toString());
                        KarafHost.ClientRun run = console(commands, k);
                        ns[3] = run.nanos();
                        long[] stamps = stamps(run.output());
                        inSession = (stamps[k] - stamps[0]) / k;
                    }
                }
            }
            if (r.counts(i)) {
                t.get("provider").add(ns[0]);
                t.get("jmx").add(ns[1]);
                t.get("client1").add(ns[2]);
                t.get("clientK").add(ns[3]);
                t.get("perCommand").add(inSession);
                t.get("difference").add((ns[3] - ns[2]) / (k - 1));
            }
            // untimed: back to the starting state, newest first (an external delete merges the top overlay)
            engine.delete(DomainRef.running(pd), base);
            delete(mbs, jd, base);
            Collections.reverse(consoleMade);
            for (String name : consoleMade) {
                delete(mbs, cd, name);
            }
        }
        Cell c = new Cell(n, kind, Stats.ofNanos(t.get("provider")), Stats.ofNanos(t.get("jmx")),
                Stats.ofNanos(t.get("client1")), Stats.ofNanos(t.get("clientK")), Stats.ofNanos(t.get("perCommand")),
                Stats.ofNanos(t.get("difference")));
        cells.add(c);
        System.out.printf("surfaces N=%-2d %-8s provider %s  jmx %s  bin/client(1) %s  per command %s  (t_K-t_1)/(K-1)"
                + " %s%n", n, kind, c.provider().cell(), c.jmx().cell(), c.client1().cell(), c.perCommand().cell(),
                c.difference().cell());
    }

    private static Path overlay(RealQemu.Disk d, String name) {
        return d.image().resolveSibling(d.id() + "-" + name + ".qcow2");
    }

    /** The disks argument of the MBean and the console: every disk, of one kind, overlays beside the images. */
    private static String disks(RealQemu q, SnapshotKind kind, String name) {
        List<String> parts = new ArrayList<>();
        for (RealQemu.Disk d : q.disks()) {
            parts.add(kind == SnapshotKind.INTERNAL ? d.id() + ":internal" : d.id() + ":external:" + overlay(d, name));
        }
        return String.join(",", parts);
    }

    private static String create(RealQemu q, int domid, SnapshotKind kind, String name) {
        return "snapshot:create -d " + DESCRIPTION + " --disks " + disks(q, kind, name) + " " + domid + " " + name;
    }

    /** @return one {@code bin/client} process running {@code commands}, which must have created {@code creates} snapshots */
    private KarafHost.ClientRun console(List<String> commands, int creates) throws Exception {
        KarafHost.ClientRun run = karaf.client(commands, CREATED, Duration.ofSeconds(120));
        if (run.exitCode() != 0 || run.marks().size() != creates) {
            throw new IllegalStateException("bin/client (exit " + run.exitCode() + ") created " + run.marks().size()
                    + " of " + creates + " snapshots: " + commands + "\n" + run.output());
        }
        return run;
    }

    /** @return the nanoTime stamps the session printed on its {@link #STAMPS} line */
    private long[] stamps(String output) {
        for (String line : output.split("\n")) {
            String l = line.strip();
            if (l.startsWith(STAMPS + " ")) {
                String[] f = l.substring(STAMPS.length() + 1).trim().split("\\s+");
                if (f.length == k + 1) {
                    long[] t = new long[f.length];
                    for (int j = 0; j < f.length; j++) {
                        t[j] = Long.parseLong(f[j]);
                    }
                    return t;
                }
            }
        }
        throw new IllegalStateException("no line '" + STAMPS + "' with " + (k + 1) + " stamps in:\n" + output);
    }

    private static void delete(MBeanServerConnection mbs, int domid, String name) throws Exception {
        mbs.invoke(KarafHost.SNAPSHOTS, "deleteSnapshot", new Object[] {Integer.toString(domid), name},
                new String[] {String.class.getName(), String.class.getName()});
    }

    /** A new connector each time: RMI registry lookup, login as karaf/karaf, the connection; closed untimed. */
    private Stats measureConnect() throws Exception {
        List<Long> ns = new ArrayList<>();
        for (int i = 0; i < runs.total(); i++) {
            long t0 = System.nanoTime();
            JMXConnector c = karaf.connect();
            c.getMBeanServerConnection().isRegistered(KarafHost.SNAPSHOTS);
            long t1 = System.nanoTime();
            c.close();
            if (runs.counts(i)) {
                ns.add(t1 - t0);
            }
        }
        return Stats.ofNanos(ns);
    }

    void report(Report out) {
        out.section("2. The same create through the MBean (JMX RMI) and the console");
        out.para("The create of section 1 (every disk of a Xen-like domain, internal, or external with the overlay"
                + " beside each image) through the ways in from outside Karaf, against the provider called in this JVM"
                + " as the base. Karaf is the project's distribution (`distribution/target/assembly`, copied to a temp"
                + " dir, free ports for JMX and ssh), configured as `scripts/demo` does: `etc/io.xensnap.cfg` names"
                + " this bench's xenstored, Xen run dir (the QMP sockets), libxl dir and overlay root, and a state dir"
                + " of its own; parallelism 2 as for the provider here. One identical domain per path, the paths"
                + " alternating in a rotating order; every snapshot is deleted again after its run, untimed. "
                + runs.warmup() + " warm-up runs excluded, " + runs.measured() + " measured"
                + (counts.contains(16) ? " (" + runs.scaled(0.5).measured() + " at 16 disks)" : "")
                + "; ms median [p10–p90].");
        out.para("*JMX*: `createSnapshot` on `io.xensnap:type=snapshots` over one RMI connector kept open, a tool's"
                + " steady state. *bin/client, 1 command*: one `bin/client -u karaf -p karaf -b` process with one"
                + " `snapshot:create` on stdin, spawn to exit: what a user or a script pays per call (a JVM start, the"
                + " ssh login, the command). *Per command in a session*: a `bin/client` run with " + k + " creates"
                + " in one Gogo script that reads `System.nanoTime()` inside Karaf before each create and after the"
                + " last (through reflection: `($xsbclock invoke $null)`) and prints the readings; (last − first)"
                + " ÷ " + k + " is the command's own cost at the console, parsing and printing included, without the"
                + " client's start (`bin/client -b` sends the whole script at once and prints the output when it"
                + " ends, so the client cannot time the commands). *(t_" + k + " − t_1)/" + (k - 1) + "*: the same"
                + " from whole process times, the " + k + "-command run against the 1-command run: a cross-check"
                + " that carries the noise of two JVM starts. *Overhead* = surface − provider, medians.");
        List<List<String>> rows = new ArrayList<>();
        for (Cell c : cells) {
            rows.add(List.of(Integer.toString(c.disks()), c.kind().name().toLowerCase(Locale.ROOT), c.provider().cell(),
                    c.jmx().cell(), "**" + Stats.ratio(c.jmx(), c.provider()) + "**", over(c.jmx(), c.provider()),
                    c.client1().cell(), Stats.ratio(c.client1(), c.provider()), over(c.client1(), c.provider()),
                    c.perCommand().cell(), "**" + Stats.ratio(c.perCommand(), c.provider()) + "**",
                    over(c.perCommand(), c.provider()), c.difference().cell()));
        }
        out.table(List.of("disks", "kind", "provider (in-process)", "JMX, connector open", "JMX ÷ provider",
                "JMX overhead", "bin/client, 1 command", "÷ provider", "overhead", "per command in a session",
                "÷ provider", "overhead", "(t_" + k + " − t_1)/" + (k - 1)), rows);
        double floor = cells.stream().mapToDouble(c -> c.client1().median() - c.perCommand().median()).average()
                .orElse(Double.NaN);
        out.para("Paid once per client, not per create: **JMX connect** (`JMXConnectorFactory.connect` with"
                + " karaf/karaf: registry lookup, login, one call) " + connect.cell() + " ms; **`bin/client` process"
                + " start and ssh login** (the 1-command run − the per-command cost, averaged over the rows) ≈ "
                + Stats.ms(floor) + " ms. The JMX overhead per create is the RMI round trip, the JMX ACL check and"
                + " the open-type result; the console's is the command's parsing and its printed result; the rest of"
                + " a `bin/client` call is a JVM start and an ssh handshake, which a user pays per call and a session"
                + " pays once. Karaf itself, from the launch of `bin/karaf daemon` until xensnap answered over JMX: "
                + Stats.ms(karaf.launchToReady().median()) + " ms (one launch, empty state dir).");
    }

    private static String over(Stats surface, Stats base) {
        return String.format(Locale.ROOT, "%+.1f", surface.median() - base.median());
    }
}
