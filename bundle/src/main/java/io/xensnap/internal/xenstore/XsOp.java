package io.xensnap.internal.xenstore;

/**
 * Xenstore message types ({@code xs_wire.h} 4.17, docs/xen-host.md#message-types). Only what a dom0 tool sends or
 * receives.
 */
enum XsOp {
    CONTROL(0),
    DIRECTORY(1),
    READ(2),
    GET_PERMS(3),
    WATCH(4),
    UNWATCH(5),
    TRANSACTION_START(6),
    TRANSACTION_END(7),
    INTRODUCE(8),
    RELEASE(9),
    GET_DOMAIN_PATH(10),
    WRITE(11),
    MKDIR(12),
    RM(13),
    SET_PERMS(14),
    WATCH_EVENT(15),
    ERROR(16),
    IS_DOMAIN_INTRODUCED(17),
    RESUME(18),
    SET_TARGET(19),
    RESET_WATCHES(21),
    DIRECTORY_PART(22);

    private static final XsOp[] BY_CODE = new XsOp[23];

    static {
        for (XsOp op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final int code;

    XsOp(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    /** @return the type with this wire code, or {@code null} for one 4.17 does not define */
    static XsOp of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
