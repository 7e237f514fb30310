package io.xensnap.internal.libxl;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An xl.cfg written from libxl's JSON domain config, so that {@code xl create} can start a domain from the config a
 * snapshot kept: xl reads JSON only from a save image, and a domain started again without its memory needs an
 * xl.cfg.
 *
 * <p>Only what a PV or PVH domain's config usually holds is written: name and uuid (a domain keeps its uuid, which
 * is how xensnap knows it), memory and vCPUs, kernel, ramdisk and command line or a bootloader, the shutdown actions,
 * the scheduler's parameters, disks, network interfaces and channels. Whatever else the config holds is simply not
 * written; {@link ConfigMatch} compares what xl parses back from this text with the config, field by field, and is
 * what decides whether the text carries the config — never this class alone.
 */
public final class XlConfigText {

    private static final Map<String, String> DISK_KEYS = Map.of("vdev", "vdev", "format", "format",
            "backend", "backendtype", "script", "script", "backend_domname", "backend");
    private static final Map<String, String> NIC_KEYS = Map.of("mac", "mac", "bridge", "bridge", "script", "script",
            "ip", "ip", "model", "model", "ifname", "vifname", "nictype", "type", "backend_domname", "backend",
            "gatewaydev", "gatewaydev", "mtu", "mtu");
    /** libxl's scheduler parameters and their xl.cfg keys (xl_parse.c: the weight is {@code cpu_weight}). */
    private static final Map<String, String> SCHED_KEYS = Map.of("weight", "cpu_weight", "cap", "cap", "period",
            "period", "slice", "slice", "latency", "latency", "extratime", "extratime");
    private static final List<String> ACTIONS = List.of("on_poweroff", "on_reboot", "on_watchdog", "on_crash",
            "on_soft_reset");

    private XlConfigText() {
    }

    /**
     * @param json the config, as libxl stores it (a trailing NUL is allowed)
     * @param name the config's name, for messages
     * @return the xl.cfg text
     * @throws LibxlConfigException MALFORMED when it is not libxl's config, NOT_CARRIED when a value cannot be written
     *                              in xl.cfg's syntax (a control character in a string, a memory size that is not
     *                              whole MiB)
     */
    public static String render(byte[] json, String name) throws LibxlConfigException {
        ObjectNode config = DomainConfigJson.parse(json, name);
        List<String> lines = new ArrayList<>();
        JsonNode cInfo = config.path("c_info");
        JsonNode bInfo = config.path("b_info");
        string(lines, "name", cInfo.path("name"), name);
        string(lines, "uuid", cInfo.path("uuid"), name);
        string(lines, "type", cInfo.path("type"), name);
        string(lines, "pool", cInfo.path("pool_name"), name);
        memory(lines, "memory", bInfo.path("target_memkb"), name);
        memory(lines, "maxmem", bInfo.path("max_memkb"), name);
        vcpus(lines, bInfo, name);
        for (String key : List.of("kernel", "ramdisk", "cmdline", "bootloader")) {
            string(lines, key, bInfo.path(key), name);
        }
        JsonNode bootArgs = bInfo.path("bootloader_args");
        if (bootArgs.isArray()) {
            lines.add("bootloader_args = " + list(bootArgs, name));
        }
        JsonNode sched = bInfo.path("sched_params");
        for (Map.Entry<String, String> key : SCHED_KEYS.entrySet()) {
            if (sched.path(key.getKey()).isIntegralNumber()) {
                lines.add(key.getValue() + " = " + sched.path(key.getKey()).asLong());
            }
        }
        for (String action : ACTIONS) {
            if (config.path(action).isTextual()) {
                // libxl's JSON names the actions with '_' (coredump_destroy), xl.cfg with '-' (coredump-destroy)
                lines.add(action + " = " + quoted(config.path(action).asText().replace('_', '-'), name));
            }
        }
        devices(lines, "disk", config.path("disks"), XlConfigText::disk, name);
        devices(lines, "vif", config.path("nics"), XlConfigText::nic, name);
        devices(lines, "channel", config.path("channels"), XlConfigText::channel, name);
        return String.join("\n", lines) + "\n";
    }

    private interface Spec {
        String of(JsonNode device, String name) throws LibxlConfigException;
    }

    private static void devices(List<String> lines, String key, JsonNode devices, Spec spec, String name)
            throws LibxlConfigException {
        if (!devices.isArray() || devices.isEmpty()) {
            return;
        }
        StringJoiner items = new StringJoiner(", ", "[ ", " ]");
        for (JsonNode d : devices) {
            items.add(quoted(spec.of(d, name), name));
        }
        lines.add(key + " = " + items);
    }

    /** xl's disk spec: {@code target=} last, because it takes the rest of the spec, commas included. */
    private static String disk(JsonNode d, String name) throws LibxlConfigException {
        StringJoiner spec = new StringJoiner(",");
        keyValues(spec, d, DISK_KEYS, name);
        spec.add(d.path("readwrite").asInt(0) == 1 ? "access=rw" : "access=ro");
        if (d.path("is_cdrom").asInt(0) == 1) {
            spec.add("devtype=cdrom");
        }
        if (d.path("discard_enable").isTextual()) {
            spec.add(d.path("discard_enable").asText().equals("True") ? "discard" : "no-discard");
        }
        if (d.path("pdev_path").isTextual()) {
            spec.add("target=" + d.path("pdev_path").asText());
        }
        return spec.toString();
    }

    private static String nic(JsonNode d, String name) throws LibxlConfigException {
        StringJoiner spec = new StringJoiner(",");
        keyValues(spec, d, NIC_KEYS, name);
        return spec.toString();
    }

    private static String channel(JsonNode d, String name) throws LibxlConfigException {
        StringJoiner spec = new StringJoiner(",");
        keyValues(spec, d, Map.of("name", "name", "backend_domname", "backend"), name);
        Iterator<String> fields = d.fieldNames();
        while (fields.hasNext()) {
            String f = fields.next();
            if (f.startsWith("connection.")) {
                // a keyed union: the connection's kind is the key's suffix, its fields inside
                spec.add("connection=" + f.substring("connection.".length()));
                keyValues(spec, d.path(f), Map.of("path", "path"), name);
            }
        }
        return spec.toString();
    }

    /** {@code key=value} items of a device spec, which has no quoting of its own: a comma would end the value. */
    private static void keyValues(StringJoiner spec, JsonNode device, Map<String, String> keys, String name)
            throws LibxlConfigException {
        for (Iterator<Map.Entry<String, JsonNode>> it = device.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = keys.get(f.getKey());
            if (key == null || !(f.getValue().isTextual() || f.getValue().isIntegralNumber())) {
                continue;
            }
            String value = f.getValue().asText();
            if (value.contains(",")) {
                throw new LibxlConfigException(LibxlConfigException.Reason.NOT_CARRIED, name + ": the device field "
                        + f.getKey() + " = \"" + value + "\" holds a comma, which ends a value in xl's device specs");
            }
            spec.add(key + "=" + value);
        }
    }

    private static void vcpus(List<String> lines, JsonNode bInfo, String name) throws LibxlConfigException {
        if (bInfo.path("max_vcpus").isIntegralNumber()) {
            lines.add("maxvcpus = " + bInfo.path("max_vcpus").asLong());
        }
        JsonNode avail = bInfo.path("avail_vcpus");
        if (avail.isArray()) {
            // xl.cfg's vcpus=N brings vCPUs 0..N-1 online; another set cannot be written
            for (int i = 0; i < avail.size(); i++) {
                if (avail.get(i).asInt(-1) != i) {
                    throw new LibxlConfigException(LibxlConfigException.Reason.NOT_CARRIED, name + ": the vCPUs "
                            + avail + " online are not 0 to " + (avail.size() - 1) + ", as xl's vcpus= sets them");
                }
            }
            lines.add("vcpus = " + avail.size());
        }
    }

    private static void memory(List<String> lines, String key, JsonNode kb, String name) throws LibxlConfigException {
        if (!kb.isIntegralNumber() || kb.asLong() < 0) {
            return;
        }
        if (kb.asLong() % 1024 != 0) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NOT_CARRIED, name + ": " + key + " of "
                    + kb.asLong() + " KiB is not whole MiB, the unit of xl's " + key + "=");
        }
        lines.add(key + " = " + kb.asLong() / 1024);
    }

    private static void string(List<String> lines, String key, JsonNode value, String name)
            throws LibxlConfigException {
        if (value.isTextual()) {
            lines.add(key + " = " + quoted(value.asText(), name));
        }
    }

    private static String list(JsonNode array, String name) throws LibxlConfigException {
        StringJoiner items = new StringJoiner(", ", "[ ", " ]");
        for (JsonNode item : array) {
            items.add(quoted(item.asText(), name));
        }
        return items.toString();
    }

    /** A string in xl.cfg's syntax: double quotes, with {@code \"} and {@code \\} as libxlu reads them back. */
    static String quoted(String value, String name) throws LibxlConfigException {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                throw new LibxlConfigException(LibxlConfigException.Reason.NOT_CARRIED, name + ": the value \""
                        + value.replaceAll("\\p{Cntrl}", "?") + "\" holds a control character xl.cfg cannot carry");
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
