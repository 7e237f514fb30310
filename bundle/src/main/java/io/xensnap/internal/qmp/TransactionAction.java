package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Objects;

/** One action of a QMP {@code transaction}: QEMU applies all of them or none (docs/qemu.md#transactions). */
public sealed interface TransactionAction {

    /** @return the action as {@code {"type": …, "data": {…}}}, built in {@code action} */
    ObjectNode toJson(ObjectNode action);

    /**
     * {@code blockdev-snapshot-internal-sync}: a disk-only internal snapshot of the root layer.
     *
     * @param device a BlockBackend name or a root node-name ({@link BlockDevice#target()})
     */
    record InternalSnapshot(String device, String name) implements TransactionAction {
        public InternalSnapshot {
            requireText(device, "device");
            requireText(name, "name");
        }

        @Override
        public ObjectNode toJson(ObjectNode action) {
            action.put("type", "blockdev-snapshot-internal-sync");
            action.putObject("data").put("device", device).put("name", name);
            return action;
        }
    }

    /**
     * {@code blockdev-snapshot-sync} in node-name form: QEMU opens {@code overlay} as the new root above
     * {@code node} and names it {@code overlayNode} (mandatory for the node-name form, and the only stable way to find
     * the new root again).
     *
     * @param node        the current root node-name
     * @param overlay     absolute path of the overlay
     * @param overlayNode the node-name the overlay gets
     * @param format      the overlay's format, normally {@code qcow2}
     * @param mode        whether QEMU creates the overlay or uses an existing one
     */
    record ExternalSnapshot(String node, Path overlay, String overlayNode, String format, Mode mode)
            implements TransactionAction {

        public enum Mode {
            /** QEMU creates the file; it silently overwrites an existing one (docs/qemu.md#overlay-modes). */
            ABSOLUTE_PATHS("absolute-paths"),
            /** The file exists already; QEMU does not check its header (docs/qemu.md#overlay-modes). */
            EXISTING("existing");

            private final String qmp;

            Mode(String qmp) {
                this.qmp = qmp;
            }
        }

        public ExternalSnapshot {
            requireText(node, "node");
            Objects.requireNonNull(overlay, "overlay");
            if (!overlay.isAbsolute()) {
                throw new IllegalArgumentException("overlay path must be absolute: " + overlay);
            }
            requireText(overlayNode, "overlayNode");
            requireText(format, "format");
            Objects.requireNonNull(mode, "mode");
        }

        /** A qcow2 overlay that QEMU creates. */
        public static ExternalSnapshot create(String node, Path overlay, String overlayNode) {
            return new ExternalSnapshot(node, overlay, overlayNode, "qcow2", Mode.ABSOLUTE_PATHS);
        }

        @Override
        public ObjectNode toJson(ObjectNode action) {
            action.put("type", "blockdev-snapshot-sync");
            action.putObject("data").put("node-name", node).put("snapshot-file", overlay.toString())
                    .put("snapshot-node-name", overlayNode).put("format", format).put("mode", mode.qmp);
            return action;
        }
    }

    /**
     * {@code blockdev-snapshot}: makes an overlay node added beforehand ({@link OverlayNodes#add}) the new root above
     * {@code node}.
     */
    record AttachOverlay(String node, String overlayNode) implements TransactionAction {
        public AttachOverlay {
            requireText(node, "node");
            requireText(overlayNode, "overlayNode");
        }

        @Override
        public ObjectNode toJson(ObjectNode action) {
            action.put("type", "blockdev-snapshot");
            action.putObject("data").put("node", node).put("overlay", overlayNode);
            return action;
        }
    }

    private static void requireText(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }
}
