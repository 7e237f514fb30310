package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * Adds and removes monitor-owned overlay nodes for {@link TransactionAction.AttachOverlay}, the way libvirt does it:
 * the overlay is created with {@code qemu-img create -b} beforehand and opened without its backing, which
 * {@code blockdev-snapshot} then connects (opening the backing again would fail on the image lock,
 * docs/qemu.md#overlay-modes).
 */
public final class OverlayNodes {

    private final QmpConnection qmp;

    public OverlayNodes(QmpConnection qmp) {
        this.qmp = qmp;
    }

    /** {@code blockdev-add} of a qcow2 {@code overlay} as node {@code nodeName}, with {@code "backing": null}. */
    public void add(String nodeName, Path overlay) throws QmpException {
        ObjectNode args = qmp.arguments().put("driver", "qcow2").put("node-name", nodeName);
        args.putObject("file").put("driver", "file").put("filename", overlay.toString());
        args.putNull("backing");
        qmp.execute("blockdev-add", args);
    }

    /** {@code blockdev-del}: removes an overlay node that was added but never attached. */
    public void delete(String nodeName) throws QmpException {
        qmp.execute("blockdev-del", qmp.arguments().put("node-name", nodeName));
    }
}
