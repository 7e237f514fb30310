package io.xensnap.internal.qmp;

import java.nio.file.Path;
import java.util.List;

/**
 * QEMU refused a {@code transaction}. QEMU rolled every action back, but it does not delete the overlay files it had
 * already created for actions before the failing one (docs/qemu.md#files-left-behind): {@link #createdFiles()} lists
 * them so the caller can remove them.
 */
public final class QmpTransactionException extends QmpException {

    private static final long serialVersionUID = 1L;

    private final transient List<Path> createdFiles;

    QmpTransactionException(QmpException reply, List<Path> createdFiles) {
        super(reply.kind(), reply.errorClass(), reply.desc(), reply.getMessage()
                + (createdFiles.isEmpty() ? "" : "; overlay files left behind: " + createdFiles), reply);
        this.createdFiles = List.copyOf(createdFiles);
    }

    /** @return overlay files that did not exist before the transaction and do now */
    public List<Path> createdFiles() {
        return createdFiles;
    }
}
