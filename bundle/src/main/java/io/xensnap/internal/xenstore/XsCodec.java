package io.xensnap.internal.xenstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Xenstore framing. {@link #encode} turns a packet into wire bytes; an instance is an incremental decoder that takes
 * bytes as they arrive, in chunks of any size, and hands out whole packets. A decoder belongs to one connection and
 * one reader thread.
 */
final class XsCodec {

    private final ByteBuffer header = ByteBuffer.allocate(XsPacket.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private XsOp op;
    private int reqId;
    private int txId;
    private byte[] payload;
    private int filled;

    static ByteBuffer encode(XsPacket p) {
        byte[] body = p.payload();
        ByteBuffer out = ByteBuffer.allocate(XsPacket.HEADER_SIZE + body.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(p.op().code()).putInt(p.reqId()).putInt(p.txId()).putInt(body.length).put(body);
        return out.flip();
    }

    /**
     * Consumes all of {@code in}.
     *
     * @return the packets completed by these bytes, in order (often none, sometimes several)
     * @throws XenstoreException {@code EPROTO} for an unknown type or an impossible length: the stream cannot be
     *         resynchronised after that, the connection must be dropped
     */
    List<XsPacket> decode(ByteBuffer in) throws XenstoreException {
        List<XsPacket> out = new ArrayList<>(1);
        while (true) {
            if (payload == null) {
                while (header.hasRemaining() && in.hasRemaining()) {
                    header.put(in.get());
                }
                if (header.hasRemaining()) {
                    return out;
                }
                startPayload();
            }
            int n = Math.min(in.remaining(), payload.length - filled);
            in.get(payload, filled, n);
            filled += n;
            // An empty payload completes with the header alone, even when no byte follows it.
            if (filled < payload.length) {
                return out;
            }
            out.add(new XsPacket(op, reqId, txId, payload));
            payload = null;
            header.clear();
            if (!in.hasRemaining()) {
                return out;
            }
        }
    }

    private void startPayload() throws XenstoreException {
        header.flip();
        int type = header.getInt();
        reqId = header.getInt();
        txId = header.getInt();
        long len = Integer.toUnsignedLong(header.getInt());
        op = XsOp.of(type);
        if (op == null) {
            throw new XenstoreException(XenstoreException.EPROTO, "unknown message type " + Integer.toUnsignedString(type));
        }
        if (len > XsPacket.maxPayload(op)) {
            throw new XenstoreException(XenstoreException.EPROTO, op + " with a payload of " + len
                    + " bytes, more than the protocol allows (" + XsPacket.maxPayload(op) + ")");
        }
        payload = new byte[(int) len];
        filled = 0;
    }

    /** @return whether a packet has started but not finished: bytes would be lost if the stream ended here */
    boolean inPacket() {
        return payload != null || header.position() > 0;
    }
}
