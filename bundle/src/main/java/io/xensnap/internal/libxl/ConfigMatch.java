package io.xensnap.internal.libxl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Whether an xl.cfg carries a domain's libxl config: the config xl parses from the text ({@code xl -N create}, a dry
 * run that prints libxl's JSON and starts nothing) must hold every field of the kept config with the same value, and
 * nothing the kept config lacks — except the fields libxl itself fills in when it creates a domain, which no xl.cfg
 * sets and a userdata file always has.
 *
 * <p>Those fields were read on a Xen 4.17 host from the userdata file of domains created from an xl.cfg, beside xl's
 * dry run of the same file (docs/xen-host.md, "Starting a domain from its kept config").
 */
public final class ConfigMatch {

    /**
     * Paths (array items as {@code []}) libxl writes whatever the xl.cfg says: at create time, and — the scheduler's
     * name — when the config it stores comes from a running domain (after {@code xl save} and {@code xl restore}),
     * where it is the scheduler of the domain's CPU pool, which no xl.cfg key names.
     */
    static final Set<String> FILLED_BY_LIBXL = Set.of(
            "c_info.domid",
            "b_info.sched_params.sched",
            "b_info.video_memkb",
            "b_info.arch_x86.msr_relaxed",
            "disks[].colo_restore_enable");

    private ConfigMatch() {
    }

    /**
     * @param kept   the config the snapshot kept (a trailing NUL is allowed)
     * @param parsed what {@code xl -N create} printed for the xl.cfg written from it
     * @param name   the kept config's name, for messages
     * @throws LibxlConfigException NOT_CARRIED, naming each field that differs; MALFORMED when either is not JSON
     */
    public static void require(byte[] kept, String parsed, String name) throws LibxlConfigException {
        JsonNode keptTree = DomainConfigJson.parse(kept, name);
        JsonNode parsedTree;
        try {
            parsedTree = DomainConfigJson.readTree(parsed.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.MALFORMED,
                    "xl's dry run of the config written from " + name + " printed no JSON: " + e.getMessage(), e);
        }
        List<String> differ = new ArrayList<>();
        compare("", keptTree, parsedTree, differ);
        if (!differ.isEmpty()) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_CARRIED, name + ": an xl.cfg cannot carry"
                    + " this config: xl would start the domain with " + String.join("; ", differ));
        }
    }

    private static void compare(String path, JsonNode kept, JsonNode parsed, List<String> differ) {
        if (kept != null && parsed != null && kept.isContainerNode() && parsed.isContainerNode()
                && kept.getNodeType() == parsed.getNodeType() && !(kept.isEmpty() && parsed.isEmpty())) {
            if (kept.isArray()) {
                for (int i = 0; i < Math.max(kept.size(), parsed.size()); i++) {
                    compare(path + "[" + i + "]", kept.get(i), parsed.get(i), differ);
                }
            } else {
                for (String field : fieldsOfBoth(kept, parsed)) {
                    compare(path.isEmpty() ? field : path + "." + field, kept.get(field), parsed.get(field), differ);
                }
            }
            return;
        }
        if (sameLeaf(kept, parsed) || FILLED_BY_LIBXL.contains(path.replaceAll("\\[\\d+]", "[]"))) {
            return;
        }
        differ.add(path + " " + (parsed == null ? "unset" : "= " + parsed) + " instead of "
                + (kept == null ? "unset" : kept.toString()));
    }

    private static boolean sameLeaf(JsonNode kept, JsonNode parsed) {
        if (kept == null || parsed == null) {
            // an empty object or list is what libxl prints for a field at its default, present or not
            JsonNode there = kept == null ? parsed : kept;
            return there != null && there.isContainerNode() && there.isEmpty();
        }
        return kept.equals(parsed);
    }

    private static Set<String> fieldsOfBoth(JsonNode a, JsonNode b) {
        Set<String> fields = new java.util.LinkedHashSet<>();
        for (JsonNode n : List.of(a, b)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
                fields.add(it.next().getKey());
            }
        }
        return fields;
    }
}
