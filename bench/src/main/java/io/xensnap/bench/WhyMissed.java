package io.xensnap.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The report's "Why targets are missed" section: every target this run missed, with its measured value and a link to
 * the part of docs/benchmarks-analysis.md that says what bounds it.
 *
 * <p>The analysis itself is prose maintained by hand, not generated: it names code (which changes under it) and quotes
 * numbers from the trials it was written from, so it lives in docs/ where it is reviewed with the code, and the report
 * does not copy it as if it were this run's result. What the report adds is which parts apply to this run's numbers;
 * a link whose heading the analysis does not have is said to be missing rather than left dangling.
 */
final class WhyMissed {

    /** The analysis, next to the report in docs/. */
    static final String ANALYSIS = "benchmarks-analysis.md";

    /**
     * A family of targets and the heading of its analysis.
     *
     * @param targetContains what the family's target names contain
     * @param heading        the {@code ## } heading of its part of the analysis
     * @param evenWhenMet    linked even when the run met it (the libvirt target holds only on a loaded machine)
     */
    record Topic(String targetContains, String heading, boolean evenWhenMet) {

        String anchor() {
            return heading.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 -]", "").replace(' ', '-');
        }
    }

    static final List<Topic> TOPICS = List.of(
            new Topic("raw QMP", "Create against a raw QMP client", false),
            new Topic("offline revert", "Offline revert against qemu-img", false),
            new Topic("concurrent", "Concurrent domains against raw throughput", false),
            new Topic("list of 10,000", "Listing a large catalog", false),
            new Topic("heap", "Heap of a large catalog", false),
            new Topic("libvirt", "Create against libvirt", true),
            new Topic("quiesced create", "A quiesced create in a TCG guest", false),
            new Topic("domain paused", "A snapshot with memory on the Xen test bed", false));

    private WhyMissed() {
    }

    /**
     * @param analysis the text of docs/benchmarks-analysis.md, or empty when it could not be read
     * @return the section, or empty when no target calls for it
     */
    static String text(List<Report.Verdict> verdicts, String analysis) {
        Set<String> headings = headings(analysis);
        List<String> rows = new ArrayList<>();
        Set<String> missingHeadings = new LinkedHashSet<>();
        for (Report.Verdict v : verdicts) {
            Topic topic = TOPICS.stream().filter(t -> v.target().contains(t.targetContains())).findFirst().orElse(null);
            if (v.met() && (topic == null || !topic.evenWhenMet())) {
                continue;
            }
            String link;
            if (topic == null) {
                link = "none written for this target yet";
            } else if (headings.contains(topic.heading())) {
                link = "[" + topic.heading() + "](" + ANALYSIS + "#" + topic.anchor() + ")";
            } else {
                link = "**missing**: the analysis has no part \"" + topic.heading() + "\"";
                missingHeadings.add(topic.heading());
            }
            rows.add("| " + v.target() + " | " + v.measured() + " | " + (v.met() ? "met" : "**missed**") + " | "
                    + link + " |\n");
        }
        if (rows.isEmpty()) {
            return "";
        }
        if (!missingHeadings.isEmpty()) {
            System.err.println("the report links to parts of docs/" + ANALYSIS + " it does not have: "
                    + String.join("; ", missingHeadings));
        }
        StringBuilder md = new StringBuilder("\n## Why targets are missed\n\n");
        md.append("What bounds each target is analysed in [").append(ANALYSIS).append("](").append(ANALYSIS)
                .append("), written by hand from the profiles of earlier runs and kept next to the code it names; its")
                .append(" numbers are from the trials it names, the numbers here are this run's. The libvirt target")
                .append(" is listed even when met.\n\n");
        md.append("| target | this run | verdict | analysis |\n|---|---|---|---|\n");
        rows.forEach(md::append);
        return md.toString();
    }

    /** @return the {@code ## } headings of the analysis */
    static Set<String> headings(String analysis) {
        Set<String> out = new HashSet<>();
        for (String line : analysis.split("\n")) {
            if (line.startsWith("## ")) {
                out.add(line.substring(3).strip());
            }
        }
        return out;
    }
}
