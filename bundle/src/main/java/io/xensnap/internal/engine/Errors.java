package io.xensnap.internal.engine;

import java.io.IOException;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.catalog.CatalogException;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.qga.AgentException;
import io.xensnap.internal.qemuimg.QemuImgException;
import io.xensnap.internal.qmp.QmpException;
import io.xensnap.internal.xenstore.XenstoreException;
import io.xensnap.internal.xl.DomainControlException;

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
            case NOT_CARRIED -> SnapshotError.UNSUPPORTED;
            default -> SnapshotError.INTERNAL;
        };
        return new SnapshotException(code, context + ": libxl config: " + e.getMessage(), e);
    }

    /**
     * xl ran and failed: the toolstack or the hypervisor refused, and xl's exit code and standard error say why
     * ({@code HYPERVISOR_ERROR}); xl did not run or printed what it never prints ({@code TOOL_FAILED}).
     */
    public static SnapshotException xl(String context, DomainControlException e) {
        SnapshotError code = switch (e.reason()) {
            case TIMEOUT -> SnapshotError.TIMEOUT;
            case FAILED -> SnapshotError.HYPERVISOR_ERROR;
            default -> SnapshotError.TOOL_FAILED;
        };
        return new SnapshotException(code, context + ": " + e.getMessage(), e);
    }

    /** The guest agent could not freeze the guest (or did not answer): only a create that requires it fails. */
    public static SnapshotException agent(String context, AgentException e) {
        return new SnapshotException(SnapshotError.QUIESCE_FAILED, context + ": guest agent: " + e.getMessage(), e);
    }

    public static SnapshotException catalog(CatalogException e) {
        return new SnapshotException(e.unwritable() ? SnapshotError.CATALOG_UNWRITABLE : SnapshotError.INTERNAL,
                e.getMessage(), e);
    }

    /**
     * What failed before an operation's point of no return, taken back and translated the same way for every
     * operation: the undo log rolls back with the exception the caller will see, so the log names the real cause.
     *
     * @param label the domain as messages name it (QMP's and libxl's failures are about the domain)
     * @param step what the operation is ("snapshot daily"): qemu-img's and the overlay files' failures name it
     * @param e a layer's exception, or a {@link SnapshotException} the operation threw itself (passed on as it is)
     * @return the exception to throw, after the undo log was rolled back
     */
    public static SnapshotException rolledBack(UndoLog undo, String label, String step, Exception e) {
        SnapshotException se = translate(label, step, e);
        undo.rollback(se);
        return se;
    }

    /** @return {@code e} as the one error model's exception, {@code step} naming what failed */
    public static SnapshotException translate(String label, String step, Exception e) {
        if (e instanceof SnapshotException s) {
            return s;
        }
        if (e instanceof QmpException q) {
            return qmp(label, q);
        }
        if (e instanceof QemuImgException q) {
            return qemuImg(label + ": " + step, q);
        }
        if (e instanceof IOException io) {
            return OverlayFiles.refused(label + ": " + step, io);
        }
        if (e instanceof LibxlConfigException l) {
            return libxl(label, l);
        }
        if (e instanceof CatalogException c) {
            return catalog(c);
        }
        if (e instanceof DomainControlException x) {
            return xl(label + ": " + step, x);
        }
        return new SnapshotException(SnapshotError.INTERNAL, label + ": " + step + ": " + e, e);
    }
}
