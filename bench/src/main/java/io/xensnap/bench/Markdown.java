package io.xensnap.bench;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Puts the report together: how to run it, the machine, the targets, then every section's tables. */
final class Markdown {

    private Markdown() {
    }

    /**
     * @param previous the report this run replaces, or empty: its target values are shown beside this run's, so
     *                 that two runs can be compared ratio by ratio
     * @param analysis the hand-written analysis of missed targets (docs/benchmarks-analysis.md), or empty
     */
    static String document(Report report, Duration took, List<String> skipped, boolean quick, String previous,
                           String analysis) {
        Map<String, String> before = previousTargets(previous);
        StringBuilder md = new StringBuilder();
        md.append("# xensnap benchmarks\n\n");
        md.append("Written by `scripts/bench` on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(" in ").append(took.toMinutesPart()).append(" min ").append(took.toSecondsPart())
                .append(" s").append(quick ? " (**--quick**: fewer runs, wider spread; not for comparison)" : "")
                .append(". Every number below comes from this one run on this one machine: compare ratios within the")
                .append(" run, not absolute times across machines (this VM's disk is noisy, and one run was once 2–5×")
                .append(" slower than a rerun: [qemu.md](qemu.md#measurement-caveats)).\n\n");
        md.append("```\nscripts/bench            # the whole run: ~8 min on a quiet 2-core machine, ~15 on a busy one (Karaf included); rewrites this file\n")
                .append("scripts/bench --quick    # fewer runs, for trying the benchmark itself\n```\n\n");
        md.append("Times are milliseconds, **median [p10–p90]** over the measured runs; warm-up runs are excluded."
                + " A ratio is ours ÷ theirs of the medians (below 1 means xensnap is faster).\n\n");

        md.append("## Machine\n\n");
        md.append("| | |\n|---|---|\n");
        for (List<String> r : Machine.describe()) {
            md.append("| ").append(r.get(0)).append(" | ").append(r.get(1)).append(" |\n");
        }
        md.append("\n## Targets: cost against raw QMP, libvirt and qemu-img; concurrency, list time, heap\n\n");
        md.append("| target | this run | verdict | previous run" + (before.containsKey("@when") ? " (" + before.get("@when")
                + ")" : "") + " | change |\n|---|---|---|---|---|\n");
        List<String> missed = new ArrayList<>();
        List<Double> ratioChanges = new ArrayList<>();
        Map<String, Boolean> wasMet = previousVerdicts(previous);
        int verdictsKept = 0;
        int compared = 0;
        for (Report.Verdict v : report.verdicts()) {
            String prev = before.getOrDefault(v.target(), "–");
            Double change = change(v.measured(), prev);
            if (change != null && v.measured().contains("×")) {
                ratioChanges.add(Math.abs(change));
            }
            if (wasMet.containsKey(v.target())) {
                compared++;
                if (wasMet.get(v.target()) == v.met()) {
                    verdictsKept++;
                }
            }
            md.append("| ").append(v.target()).append(" | ").append(v.measured()).append(" | ")
                    .append(v.met() ? "met" : "**missed**").append(" | ").append(prev).append(" | ")
                    .append(change == null ? "–" : String.format(java.util.Locale.ROOT, "%+.0f%%", change * 100))
                    .append(" |\n");
            if (!v.met()) {
                missed.add(v.target());
            }
        }
        if (!ratioChanges.isEmpty()) {
            List<Double> sorted = ratioChanges.stream().sorted().toList();
            md.append("\nRun to run (this run against the previous one, same machine and command): the ratios moved by a"
                    + " median of ").append(String.format(java.util.Locale.ROOT, "%.0f%%", 100 * sorted.get(
                    sorted.size() / 2))).append(" and at most ").append(String.format(java.util.Locale.ROOT, "%.0f%%",
                    100 * sorted.get(sorted.size() - 1))).append("; ").append(verdictsKept).append(" of ")
                    .append(compared).append(" verdicts are the same. Each side of a ratio has its p10–p90 in its"
                    + " section; a ratio moves with the load of the machine (see the load average above).\n");
        }
        if (!skipped.isEmpty()) {
            md.append("\nNot measured in this run: ").append(String.join("; ", skipped)).append(".\n");
        }
        md.append("\n").append(missed.isEmpty() ? "Every target measured in this run is met.\n"
                : "Missed: " + missed.size() + " of " + report.verdicts().size()
                        + ". What bounds each one is written under its section and in *Why targets are missed* below.\n");
        md.append(report.body());
        md.append(WhyMissed.text(report.verdicts(), analysis));
        return md.toString();
    }

    /** @return (this − before) ÷ before for two values that start with a number, or null */
    static Double change(String now, String before) {
        Double a = leadingNumber(now);
        Double b = leadingNumber(before);
        return a == null || b == null || b == 0 ? null : (a - b) / b;
    }

    private static Double leadingNumber(String s) {
        Matcher m = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)").matcher(s == null ? "" : s.strip().replace(",", ""));
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }

    /** Target → whether it was met, from an earlier report's targets table. */
    static Map<String, Boolean> previousVerdicts(String previous) {
        Map<String, Boolean> out = new LinkedHashMap<>();
        for (String[] cells : targetRows(previous)) {
            if (cells.length >= 4) {
                out.put(cells[1].strip(), cells[3].strip().equals("met"));
            }
        }
        return out;
    }

    /** @return the cells of each row of an earlier report's targets table */
    private static List<String[]> targetRows(String previous) {
        List<String[]> rows = new ArrayList<>();
        boolean inTargets = false;
        for (String line : previous == null ? new String[0] : previous.split("\n")) {
            if (line.startsWith("## ")) {
                inTargets = line.startsWith("## Targets");
            } else if (inTargets && line.startsWith("| ") && !line.startsWith("| target ")) {
                rows.add(line.split("\\|"));
            }
        }
        return rows;
    }

    /** Target → measured value from an earlier report's targets table, plus "@when" → when it was written. */
    static Map<String, String> previousTargets(String previous) {
        Map<String, String> out = new LinkedHashMap<>();
        if (previous == null || previous.isEmpty()) {
            return out;
        }
        Matcher when = Pattern.compile("Written by `scripts/bench` on ([^ ]+ [^ ]+ UTC)").matcher(previous);
        if (when.find()) {
            out.put("@when", when.group(1));
        }
        for (String[] cells : targetRows(previous)) {
            if (cells.length >= 3) {
                out.put(cells[1].strip(), cells[2].strip());
            }
        }
        return out;
    }
}
