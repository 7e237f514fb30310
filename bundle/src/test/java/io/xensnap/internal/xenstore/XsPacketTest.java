package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class XsPacketTest {

    @Test
    void acceptsThe4096BytePayloadAndRejectsOneMore() {
        assertThat(new XsPacket(XsOp.WRITE, 1, 0, new byte[4096]).length()).isEqualTo(4096);
        assertThatThrownBy(() -> new XsPacket(XsOp.WRITE, 1, 0, new byte[4097]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4097");
    }

    @Test
    void keepsItsPayloadToItself() {
        byte[] data = {1, 2, 3};
        XsPacket p = new XsPacket(XsOp.READ, 1, 0, data);
        data[0] = 9;
        p.payload()[1] = 9;
        assertThat(p.payload()).containsExactly(1, 2, 3);
    }

    @Test
    void showsNulsAsBarsForLogs() {
        assertThat(new XsPacket(XsOp.ERROR, 3, 0, "ENOENT\0".getBytes()).toString())
                .isEqualTo("ERROR req=3 tx=0 len=7 \"ENOENT|\"");
    }

    @Test
    void parsesPermissionsBothWays() {
        assertThat(XsPerm.parse("b32751")).isEqualTo(new XsPerm(XsPerm.Access.BOTH, 32751));
        assertThat(new XsPerm(XsPerm.Access.NONE, 0)).hasToString("n0");
        assertThatThrownBy(() -> XsPerm.parse("x1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XsPerm.parse("r")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void splitsPayloadsWithoutATrailingEmptyString() {
        assertThat(XsPayload.split("a\0b\0".getBytes())).containsExactly("a", "b");
        assertThat(XsPayload.split(new byte[0])).isEmpty();
        assertThat(XsPayload.split("a\0\0".getBytes())).containsExactly("a", "");
        assertThat(XsPayload.firstString("OK\0".getBytes())).isEqualTo("OK");
        assertThat(XsPayload.pathAndValue("/a", new byte[] {0, 7})).containsExactly('/', 'a', 0, 0, 7);
    }
}
