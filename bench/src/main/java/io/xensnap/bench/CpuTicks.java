package io.xensnap.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time, read from {@code /proc}, of the QEMUs of a run, of this JVM (the provider and the raw clients both run in
 * it) and of the whole machine, in clock ticks ({@code USER_HZ}, 100 a second on Linux). Where the time of a round
 * goes when the round is bound by two cores rather than by waiting: wall time alone cannot say whose work it was.
 * {@code jitMs} is the time this JVM's JIT compilers spent meanwhile (part of {@code jvm}): a run still compiling is
 * not yet the steady state of a provider that runs for weeks.
 */
record CpuTicks(long qemus, long jvm, long machine, long jitMs) {

    /** Linux's USER_HZ: {@code /proc} counts CPU time in hundredths of a second. */
    static final double MS_PER_TICK = 10.0;

    static CpuTicks now(List<Long> qemuPids) {
        long q = 0;
        for (long pid : qemuPids) {
            q += process(Path.of("/proc/" + pid + "/stat"));
        }
        return new CpuTicks(q, process(Path.of("/proc/self/stat")), machineBusy(),
                ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
    }

    CpuTicks plus(CpuTicks other) {
        return new CpuTicks(qemus + other.qemus, jvm + other.jvm, machine + other.machine, jitMs + other.jitMs);
    }

    CpuTicks minus(CpuTicks other) {
        return new CpuTicks(qemus - other.qemus, jvm - other.jvm, machine - other.machine, jitMs - other.jitMs);
    }

    /** utime + stime of one process: the 14th and 15th fields, counted after the parenthesised command name. */
    private static long process(Path stat) {
        String s = read(stat).get(0);
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** Every CPU's user, nice, system, irq and softirq time: what the machine spent working, idle and iowait aside. */
    private static long machineBusy() {
        String[] c = read(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7}) {
            busy += Long.parseLong(c[i]);
        }
        return busy;
    }

    private static List<String> read(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}
