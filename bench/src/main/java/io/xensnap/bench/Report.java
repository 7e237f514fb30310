package io.xensnap.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The markdown the run produces, section by section, plus the target verdicts collected on the way so that the
 * summary at the top lists every target with its measured value and a reason when it is missed.
 */
final class Report {

    /** One target the run holds xensnap to: what was measured against what, and whether it holds. */
    record Verdict(String target, String measured, boolean met, String why) {
    }

    // sections are written in the order they run (libvirt needs section 1's results) and printed by their number
    private final java.util.TreeMap<String, StringBuilder> sections = new java.util.TreeMap<>();
    private StringBuilder body = new StringBuilder();
    private final List<Verdict> verdicts = new ArrayList<>();

    /** Starts the section {@code title}, or continues it when an earlier part of the run already wrote some of it. */
    void section(String title) {
        body = sections.computeIfAbsent(title, t -> new StringBuilder("\n## " + t + "\n\n"));
    }

    void para(String text) {
        body.append(text).append("\n\n");
    }

    void table(List<String> header, List<List<String>> rows) {
        body.append("| ").append(String.join(" | ", header)).append(" |\n");
        body.append("|").append("---|".repeat(header.size())).append("\n");
        for (List<String> r : rows) {
            body.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        body.append("\n");
    }

    void verdict(String target, String measured, boolean met, String why) {
        verdicts.add(new Verdict(target, measured, met, why));
        System.out.printf("TARGET %-55s %-30s %s%n", target, measured, met ? "met" : "MISSED");
    }

    List<Verdict> verdicts() {
        return verdicts;
    }

    String body() {
        StringBuilder all = new StringBuilder();
        sections.values().forEach(all::append);
        return all.toString();
    }
}
