package io.xensnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.xensnap.harness.ShortCommand;

/** The machine and the peers' versions, read at run time so the report says what the numbers came from. */
final class Machine {

    /** Read when the class is first used, at the start of the run. */
    static final String START_LOAD = loadAverage();

    private Machine() {
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static List<List<String>> describe() {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("CPUs (nproc)", Integer.toString(Runtime.getRuntime().availableProcessors()) + " — "
                + cpuModel()));
        rows.add(List.of("memory", memTotal()));
        rows.add(List.of("kernel", first(cmd("uname", "-srvm"))));
        rows.add(List.of("OS", osRelease()));
        rows.add(List.of("filesystem of /tmp (images, catalog)", first(cmd("df", "--output=fstype,source", "/tmp"),
                1)));
        rows.add(List.of("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")));
        rows.add(List.of("QEMU", first(cmd("qemu-system-x86_64", "--version"))));
        rows.add(List.of("qemu-img", first(cmd("qemu-img", "--version"))));
        rows.add(List.of("load average (1/5/15 min) at the start → at the end", START_LOAD + " → " + loadAverage()));
        rows.add(List.of("xenstored", "Debian xen-utils-4.17 cxenstored (no hypervisor; LD_PRELOAD shim)"));
        return rows;
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }

    private static String memTotal() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    return String.format(java.util.Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }

    private static String osRelease() {
        try {
            for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (l.startsWith("PRETTY_NAME=")) {
                    return l.substring(12).replace("\"", "");
                }
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }

    static String cmd(String... argv) {
        try {
            ShortCommand.Result r = ShortCommand.run(Duration.ofSeconds(20), List.of(argv));
            return r.exitCode() == 0 ? r.output().strip() : "(" + String.join(" ", argv) + " failed: " + r.output() + ")";
        } catch (RuntimeException e) {
            return "(" + String.join(" ", argv) + ": " + e.getMessage() + ")";
        }
    }

    private static String first(String text) {
        return first(text, 0);
    }

    private static String first(String text, int line) {
        String[] lines = text.split("\n");
        return (line < lines.length ? lines[line] : lines[0]).strip().replaceAll("\\s+", " ");
    }
}
