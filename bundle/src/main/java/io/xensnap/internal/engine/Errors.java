package io.xensnap.internal.engine;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.XenstoreException;

/**
 * Translates the protocol layers' own exceptions into the API's one exception, at the edge. The layer's detail (QMP
 * error class and description, xenstore errno name, qemu-img exit code and stderr) stays in the message and as the
 * cause.
 */
public final class Errors {

    private Errors() {
    }

    public static SnapshotException qmp(String context, QmpException e) {
        SnapshotError code = switch (e.kind()) {
            case TIMEOUT -> SnapshotError.TIMEOUT;
            case NO_SUCH_DISK -> SnapshotError.NO_SUCH_DISK;
            case PRECONDITION -> SnapshotError.INVALID_ARGUMENT;
            default -> SnapshotError.HYPERVISOR_ERROR;
        };
        return new SnapshotException(code, context + ": QEMU: " + e.getMessage(), e);
    }

    public static SnapshotException xenstore(String context, XenstoreException e) {
        SnapshotError code = XenstoreException.ETIMEDOUT.equals(e.errno()) ? SnapshotError.TIMEOUT
                : SnapshotError.HYPERVISOR_ERROR;
        return new SnapshotException(code, context + ": xenstore: " + e.getMessage(), e);
    }

    public static SnapshotException qemuImg(String context, QemuImgException e) {
        SnapshotError code = switch (e.reason()) {
            case TIMEOUT -> SnapshotError.TIMEOUT;
            case INVALID_NAME -> SnapshotError.INVALID_ARGUMENT;
            case DUPLICATE_NAME, FILE_EXISTS -> SnapshotError.SNAPSHOT_EXISTS;
            case NO_SUCH_SNAPSHOT -> SnapshotError.NO_SUCH_SNAPSHOT;
            case SNAPSHOT_IN_OTHER_LAYER -> SnapshotError.INVALID_STATE;
            default -> SnapshotError.TOOL_FAILED;
        };
        return new SnapshotException(code, context + ": " + e.getMessage(), e);
    }

    public static SnapshotException libxl(String context, LibxlConfigException e) {
        SnapshotError code = switch (e.reason()) {
            case LOCK_TIMEOUT -> SnapshotError.LOCK_TIMEOUT;
            case NOT_FOUND -> SnapshotError.NO_SUCH_DOMAIN;
            case NO_SUCH_DISK -> SnapshotError.NO_SUCH_DISK;
            default -> SnapshotError.INTERNAL;
        };
        return new SnapshotException(code, context + ": libxl config: " + e.getMessage(), e);
    }

    public static SnapshotException catalog(CatalogException e) {
        return new SnapshotException(e.unwritable() ? SnapshotError.CATALOG_UNWRITABLE : SnapshotError.INTERNAL,
                e.getMessage(), e);
    }
}
