package io.xensnap.internal.engine;

import java.util.UUID;

import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.libxl.LibxlLockKind;
import io.xensnap.internal.libxl.UserdataLock;
import io.xensnap.internal.qmp.QmpConnection;
import io.xensnap.internal.qmp.QmpException;

/**
 * A QMP connection held under libxl's qmp-socket-lock, as libxl__ev_qmp holds its own: the lock is taken before the
 * socket is connected and released after it is closed, so xensnap and libxl never talk to one QEMU at the same time
 * (QEMU serves one monitor client at a time; a second one would wait or be refused).
 */
public final class QmpSession implements AutoCloseable {

    private final UserdataLock lock;
    private final QmpConnection qmp;

    private QmpSession(UserdataLock lock, QmpConnection qmp) {
        this.lock = lock;
        this.qmp = qmp;
    }

    /**
     * @throws LibxlConfigException LOCK_TIMEOUT naming the holder when libxl (or anyone) keeps the lock too long
     * @throws QmpException         when the connection fails; the lock is released then
     */
    public static QmpSession open(Peers peers, int domid, String uuid) throws LibxlConfigException, QmpException {
        UserdataLock lock = peers.libxl().lock(new LibxlDomain(domid, UUID.fromString(uuid)), LibxlLockKind.QMP_SOCKET);
        try {
            return new QmpSession(lock, peers.qmp().connect(domid));
        } catch (QmpException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    public QmpConnection qmp() {
        return qmp;
    }

    /** Closes the connection first, then releases the lock: nobody gets the lock while the socket is still ours. */
    @Override
    public void close() {
        try {
            qmp.close();
        } finally {
            lock.close();
        }
    }
}
