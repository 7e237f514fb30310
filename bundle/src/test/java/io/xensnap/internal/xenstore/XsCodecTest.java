package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class XsCodecTest {

    private static final HexFormat HEX = HexFormat.of();

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] hex(String h) {
        return HEX.parseHex(h.replace(" ", ""));
    }

    private static byte[] encoded(XsPacket p) {
        ByteBuffer b = XsCodec.encode(p);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    // Golden bytes as they travel on the socket (little-endian type, req_id, tx_id, len; then the payload).

    @Test
    void encodesReadRequestAsOnTheWire() {
        XsPacket p = new XsPacket(XsOp.READ, 1, 0, bytes("/tool/xenstored\0"));
        assertThat(HEX.formatHex(encoded(p))).isEqualTo(
                "02000000" + "01000000" + "00000000" + "10000000" + HEX.formatHex(bytes("/tool/xenstored\0")));
    }

    @Test
    void encodesWriteInTransactionWithRawValueAsOnTheWire() {
        XsPacket p = new XsPacket(XsOp.WRITE, 7, 3, bytes("/t/a\0hello"));
        assertThat(encoded(p)).isEqualTo(hex("0b000000 07000000 03000000 0a000000 2f742f6100 68656c6c6f"));
    }

    @Test
    void encodesRequestIdsAboveSignedRangeAsUnsigned() {
        XsPacket p = new XsPacket(XsOp.TRANSACTION_START, 0xfffffffe, 0, bytes("\0"));
        assertThat(encoded(p)).isEqualTo(hex("06000000 feffffff 00000000 01000000 00"));
    }

    /** A stream with a reply, a watch event, an error, an empty reply and a long DIRECTORY reply. */
    private static final List<XsPacket> STREAM = List.of(
            new XsPacket(XsOp.READ, 1, 0, bytes("")),
            new XsPacket(XsOp.WATCH_EVENT, 0, 0, bytes("/local/domain/5\0xensnap-1\0")),
            new XsPacket(XsOp.ERROR, 2, 9, bytes("ENOENT\0")),
            new XsPacket(XsOp.WRITE, 3, 0, bytes("OK\0")),
            new XsPacket(XsOp.READ, 4, 0, new byte[] {0, 1, 2, 0, (byte) 0xff}),
            new XsPacket(XsOp.DIRECTORY, 5, 0, bytes("child-".repeat(1000).replace("-", "\0"))));

    private static byte[] streamBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        STREAM.forEach(p -> out.writeBytes(encoded(p)));
        return out.toByteArray();
    }

    @Test
    void goldenStreamDecodesToTheSamePackets() {
        byte[] golden = hex("02000000 01000000 00000000 00000000"
                + "0f000000 00000000 00000000 1a000000" + HEX.formatHex(bytes("/local/domain/5\0xensnap-1\0"))
                + "10000000 02000000 09000000 07000000" + HEX.formatHex(bytes("ENOENT\0"))
                + "0b000000 03000000 00000000 03000000 4f4b00"
                + "02000000 04000000 00000000 05000000 00010200ff");
        assertThat(golden).isEqualTo(java.util.Arrays.copyOf(streamBytes(), golden.length));
    }

    @Test
    void decodesTheStreamFedInChunksOfEverySize() throws XenstoreException {
        byte[] all = streamBytes();
        for (int chunk = 1; chunk <= all.length; chunk++) {
            XsCodec codec = new XsCodec();
            List<XsPacket> got = new ArrayList<>();
            for (int off = 0; off < all.length; off += chunk) {
                got.addAll(codec.decode(ByteBuffer.wrap(all, off, Math.min(chunk, all.length - off))));
            }
            assertThat(got).as("chunk size %d", chunk).isEqualTo(STREAM);
            assertThat(codec.inPacket()).isFalse();
        }
    }

    @Test
    void emptyPayloadCompletesWithTheHeaderAlone() throws XenstoreException {
        XsCodec codec = new XsCodec();
        assertThat(codec.decode(ByteBuffer.wrap(hex("02000000 01000000 00000000")))).isEmpty();
        assertThat(codec.inPacket()).isTrue();
        assertThat(codec.decode(ByteBuffer.wrap(hex("00000000"))))
                .containsExactly(new XsPacket(XsOp.READ, 1, 0, new byte[0]));
        assertThat(codec.inPacket()).isFalse();
    }

    @Test
    void rejectsUnknownMessageType() {
        XsCodec codec = new XsCodec();
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(hex("63000000 01000000 00000000 00000000"))))
                .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("EPROTO"))
                .hasMessageContaining("unknown message type 99");
    }

    @Test
    void rejectsPayloadOverTheProtocolLimit() {
        XsCodec codec = new XsCodec();
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(hex("02000000 01000000 00000000 01100000"))))
                .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("EPROTO"))
                .hasMessageContaining("4097");
    }

    @Test
    void acceptsALongDirectoryReplyAsOxenstoredSendsIt() throws XenstoreException {
        XsCodec codec = new XsCodec();
        byte[] listing = bytes("c\0".repeat(5250));
        ByteBuffer in = XsCodec.encode(new XsPacket(XsOp.DIRECTORY, 1, 0, listing));
        assertThat(codec.decode(in)).singleElement().satisfies(p -> assertThat(p.length()).isEqualTo(10500));
    }

    @Test
    void rejectsADirectoryReplyBeyondItsOwnBound() {
        XsCodec codec = new XsCodec();
        assertThatThrownBy(() -> codec.decode(ByteBuffer.wrap(hex("01000000 01000000 00000000 01001000"))))
                .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("EPROTO"));
    }
}
