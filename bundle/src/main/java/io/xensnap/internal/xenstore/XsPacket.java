package io.xensnap.internal.xenstore;

import java.util.Arrays;
import java.util.Objects;

/**
 * One xenstore message: the 16-byte header ({@code type, req_id, tx_id, len}, little-endian) and its payload.
 *
 * <p>The payload is at most {@value #MAX_PAYLOAD} bytes ({@code XENSTORE_PAYLOAD_MAX}) both ways, with one exception
 * forced by a real daemon: oxenstored 4.17 answers DIRECTORY on its socket with the whole listing however long
 * (10500 bytes measured for 300 children) where cxenstored answers E2BIG. A DIRECTORY payload may therefore reach
 * {@value #MAX_DIRECTORY_PAYLOAD} bytes, a bound that keeps a corrupt length from allocating without limit.
 *
 * @param op      the message type
 * @param reqId   the request id, echoed in the reply (unsigned 32-bit on the wire, kept in an int's bits)
 * @param txId    the transaction id, 0 outside a transaction (unsigned 32-bit too)
 * @param payload the bytes after the header, copied in and out
 */
record XsPacket(XsOp op, int reqId, int txId, byte[] payload) {

    static final int HEADER_SIZE = 16;
    static final int MAX_PAYLOAD = 4096;
    static final int MAX_DIRECTORY_PAYLOAD = 1 << 20;

    XsPacket {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(payload, "payload");
        if (payload.length > maxPayload(op)) {
            throw new IllegalArgumentException(op + " payload of " + payload.length + " bytes exceeds "
                    + maxPayload(op));
        }
        payload = payload.clone();
    }

    static int maxPayload(XsOp op) {
        return op == XsOp.DIRECTORY ? MAX_DIRECTORY_PAYLOAD : MAX_PAYLOAD;
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    int length() {
        return payload.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof XsPacket p && p.op == op && p.reqId == reqId && p.txId == txId
                && Arrays.equals(p.payload, payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(op, reqId, txId, Arrays.hashCode(payload));
    }

    /** NULs shown as {@code |}, long payloads cut: for TRACE logs and test failures. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(op.name()).append(" req=").append(Integer.toUnsignedString(reqId))
                .append(" tx=").append(Integer.toUnsignedString(txId)).append(" len=").append(payload.length).append(" \"");
        int shown = Math.min(payload.length, 200);
        for (int i = 0; i < shown; i++) {
            int b = payload[i] & 0xff;
            sb.append(b == 0 ? '|' : b >= 0x20 && b < 0x7f ? (char) b : '.');
        }
        return sb.append(shown < payload.length ? "...\"" : "\"").toString();
    }
}
