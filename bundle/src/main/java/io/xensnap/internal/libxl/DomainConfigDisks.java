package io.xensnap.internal.libxl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads and changes one disk of a parsed domain config, touching nothing but {@code pdev_path} and {@code format}. */
final class DomainConfigDisks {

    private static final String PDEV_PATH = "pdev_path";
    private static final String FORMAT = "format";

    /**
     * The head of {@code libxl_device_disk} in libxl_types.idl (4.17), in declaration order, which is the order
     * libxl_device_disk_gen_json writes. Needed only when a field is absent (libxl omits defaults) and has to be added
     * where libxl itself would put it.
     */
    private static final List<String> IDL_ORDER =
            List.of("backend_domid", "backend_domname", PDEV_PATH, "vdev", "backend", FORMAT);
    private static final String BACKEND = "backend";
    private static final String SCRIPT = "script";

    private DomainConfigDisks() {
    }

    /** @throws LibxlConfigException NO_SUCH_DISK, or MALFORMED when the disk entries are not shaped like libxl's */
    static LibxlDisk read(ObjectNode config, String vdev, String name) throws LibxlConfigException {
        ObjectNode disk = find(config, vdev, name);
        Optional<String> path = textField(disk, PDEV_PATH, vdev, name);
        Optional<String> formatName = textField(disk, FORMAT, vdev, name);
        LibxlDiskFormat format = LibxlDiskFormat.UNKNOWN;
        if (formatName.isPresent()) {
            format = LibxlDiskFormat.fromJsonName(formatName.get()).orElseThrow(() -> new LibxlConfigException(
                    LibxlConfigException.Reason.MALFORMED,
                    name + ": disk " + vdev + " has a format libxl 4.17 does not know: " + formatName.get()));
        }
        return new LibxlDisk(vdev, path, format);
    }

    /**
     * Sets the disk's {@code pdev_path} and {@code format} to those of {@code target}, in place, as libxl would write
     * them: an existing field keeps its position, a missing one goes where the IDL puts it, and the default format
     * (UNKNOWN) or an absent path is written by leaving the field out.
     */
    static void write(ObjectNode config, LibxlDisk target, String name) throws LibxlConfigException {
        ObjectNode disk = find(config, target.vdev(), name);
        put(disk, PDEV_PATH, target.pdevPath().orElse(null));
        put(disk, FORMAT, target.format() == LibxlDiskFormat.UNKNOWN ? null : target.format().jsonName());
    }

    /**
     * Makes the disk a qdisk (QEMU's backend) on the path and format of {@code target}, as a restore must find a disk
     * that blkback served and that now has a qcow2 overlay. Its hotplug script goes too: the script sets up a block
     * device for blkback, and libxl refuses a qdisk that names one (disk_try_backend: "not compatible with
     * script=...").
     */
    static void writeQdisk(ObjectNode config, LibxlDisk target, String name) throws LibxlConfigException {
        write(config, target, name);
        ObjectNode disk = find(config, target.vdev(), name);
        put(disk, BACKEND, "qdisk");
        disk.remove(SCRIPT);
    }

    /** @return the disk's {@code backend} as libxl names it ("phy", "qdisk" ...), empty when the config has none */
    static Optional<String> backend(ObjectNode config, String vdev, String name) throws LibxlConfigException {
        return textField(find(config, vdev, name), BACKEND, vdev, name);
    }

    private static ObjectNode find(ObjectNode config, String vdev, String name) throws LibxlConfigException {
        JsonNode disks = config.get("disks");
        if (disks == null || disks.isNull()) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NO_SUCH_DISK, name + " has no disks, so no " + vdev);
        }
        if (!disks.isArray()) {
            throw malformed(name + ": \"disks\" is a " + disks.getNodeType() + ", not an array");
        }
        ObjectNode found = null;
        for (JsonNode disk : disks) {
            if (!(disk instanceof ObjectNode entry)) {
                throw malformed(name + ": a disk entry is a " + disk.getNodeType() + ", not an object");
            }
            JsonNode v = entry.get("vdev");
            if (v != null && v.isTextual() && v.textValue().equals(vdev)) {
                if (found != null) {
                    throw malformed(name + " has two disks with vdev " + vdev);
                }
                found = entry;
            }
        }
        if (found == null) {
            throw new LibxlConfigException(LibxlConfigException.Reason.NO_SUCH_DISK, name + " has no disk with vdev " + vdev);
        }
        return found;
    }

    private static Optional<String> textField(ObjectNode disk, String field, String vdev, String name)
            throws LibxlConfigException {
        JsonNode value = disk.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw malformed(name + ": disk " + vdev + " has a " + value.getNodeType() + " " + field + ", not a string");
        }
        return Optional.of(value.textValue());
    }

    private static void put(ObjectNode disk, String field, String value) {
        if (value == null) {
            disk.remove(field);
        } else if (disk.has(field)) {
            disk.set(field, TextNode.valueOf(value));
        } else {
            insertInIdlOrder(disk, field, TextNode.valueOf(value));
        }
    }

    private static void insertInIdlOrder(ObjectNode disk, String field, JsonNode value) {
        List<String> before = IDL_ORDER.subList(0, IDL_ORDER.indexOf(field));
        List<String> keys = new ArrayList<>();
        disk.fieldNames().forEachRemaining(keys::add);
        // After the last field that the IDL declares before this one; with none, it is the first field.
        int at = 0;
        for (int i = 0; i < keys.size(); i++) {
            if (before.contains(keys.get(i))) {
                at = i + 1;
            }
        }
        keys.add(at, field);
        Map<String, JsonNode> reordered = new LinkedHashMap<>();
        for (String key : keys) {
            reordered.put(key, key.equals(field) ? value : disk.get(key));
        }
        disk.removeAll();
        disk.setAll(reordered);
    }

    private static LibxlConfigException malformed(String message) {
        return new LibxlConfigException(LibxlConfigException.Reason.MALFORMED, message);
    }
}
