package io.xensnap.internal.libxl;

/**
 * The userdata lock files libxl 4.17 takes on a domain, each {@code <XEN_LIB_DIR>/userdata-l.<domid>.<uuid>.<userid>}
 * (libxl__userdata_path) locked with the same flock protocol. Declared in the order libxl takes them: a locker that
 * needs several takes them in this order, and so can never wait on libxl while libxl waits on it (docs/xen-host.md,
 * "Lock order").
 */
public enum LibxlLockKind {

    /** libxl__ev_devlock_init: held while devices are added, removed or changed (cdrom insert, config retrieval). */
    DEVICE_CHANGES("libxl-device-changes-lock"),
    /** libxl__ev_qmplock_init: held by libxl__ev_qmp from before connect(2) to the QMP socket until it is closed. */
    QMP_SOCKET("qmp-socket-lock"),
    /** libxl__lock_domain_userdata: held while the stored domain config is read or written. */
    DOMAIN_USERDATA("domain-userdata-lock");

    private final String userid;

    LibxlLockKind(String userid) {
        this.userid = userid;
    }

    /** @return the userdata id of the lock file, the last part of its name */
    public String userid() {
        return userid;
    }
}
