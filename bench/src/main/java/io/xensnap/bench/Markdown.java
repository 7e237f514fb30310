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
     */
    static String document(Report report, Duration took, List<String> skipped, boolean quick, String previous) {
        Map<String, String> before = previousTargets(previous);
        StringBuilder md = new StringBuilder();
        md.append("# xensnap benchmarks\n\n");
        md.append("Written by `scripts/bench` on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(" in ").append(took.toMinutesPart()).append(" min ").append(took.toSecondsPart())
                .append(" s").append(quick ? " (**--quick**: fewer runs, wider spread; not for comparison)" : "")
                .append(". Every number below comes from this one run on this one machine: compare ratios within the")
                .append(" run, not absolute times across machines (qemu.md §3: this VM's disk is noisy, and one run")
                .append(" was once 2–5× slower than a rerun).\n\n");
        md.append("```\nscripts/bench            # the whole run: ~15 min on a 2-core machine (Karaf and bin/client included); rewrites this file\n")
                .append("scripts/bench --quick    # fewer runs, for trying the benchmark itself\n```\n\n");
        md.append("Times are milliseconds, **median [p10–p90]** over the measured runs; warm-up runs are excluded."
                + " A ratio is ours ÷ theirs of the medians (below 1 means xensnap is faster).\n\n");

        md.append("## Machine\n\n");
        md.append("| | |\n|---|---|\n");
        for (List<String> r : Machine.describe()) {
            md.append("| ").append(r.get(0)).append(" | ").append(r.get(1)).append(" |\n");
        }
        md.append("\n## Targets (issue 8)\n\n");
        md.append("| target | this run | verdict | previous run" + (before.containsKey("@when") ? " (" + before.get("@when")
                + ")" : "") + " |\n|---|---|---|---|\n");
        List<String> missed = new ArrayList<>();
        for (Report.Verdict v : report.verdicts()) {
            md.append("| ").append(v.target()).append(" | ").append(v.measured()).append(" | ")
                    .append(v.met() ? "met" : "**missed**").append(" | ")
                    .append(before.getOrDefault(v.target(), "–")).append(" |\n");
            if (!v.met()) {
                missed.add(v.target());
            }
        }
        if (!skipped.isEmpty()) {
            md.append("\nNot measured in this run: ").append(String.join("; ", skipped)).append(".\n");
        }
        md.append("\n").append(missed.isEmpty() ? "Every target measured in this run is met.\n"
                : "Missed: " + missed.size() + " of " + report.verdicts().size()
                        + ". What bounds each one is written under its section and in *Why targets are missed* below.\n");
        md.append(report.body());
        md.append(WhyMissed.text(report.verdicts()));
        return md.toString();
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
        boolean inTargets = false;
        for (String line : previous.split("\n")) {
            if (line.startsWith("## ")) {
                inTargets = line.startsWith("## Targets");
                continue;
            }
            if (inTargets && line.startsWith("| ") && !line.startsWith("| target ")) {
                String[] cells = line.split("\\|");
                if (cells.length >= 3) {
                    out.put(cells[1].strip(), cells[2].strip());
                }
            }
        }
        return out;
    }
}
