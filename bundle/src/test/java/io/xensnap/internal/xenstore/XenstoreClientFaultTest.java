package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenstoreCli;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Faults. The scripted server stands in for xenstored only where the real daemons cannot produce the fault; the
 * directory-changed-between-pages case uses the real cxenstored and only decides when another writer acts.
 */
class XenstoreClientFaultTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void connectionClosedInTheMiddleOfAReplyFailsTheCallWithEconnreset() throws Exception {
        try (ScriptedXenstored fake = new ScriptedXenstored(peer -> {
            int[] req = ScriptedXenstored.readRequest(peer);
            // Half a header of the READ reply, then the daemon is gone.
            ScriptedXenstored.send(peer, HEX.parseHex("02000000" + String.format("%02x", req[1]) + "0000"));
        }); XenstoreClient xs = XenstoreClient.connect(fake.socket(), "torn", TIMEOUT)) {
            assertThatThrownBy(() -> xs.read("/x")).isInstanceOfSatisfying(XenstoreException.class, e -> {
                assertThat(e.errno()).isEqualTo("ECONNRESET");
                assertThat(e).hasMessageContaining("in the middle of a message");
            });
            fake.awaitScript();
            assertThat(xs.isOpen()).isFalse();
        }
    }

    @Test
    void replyLongerThanTheProtocolAllowsDropsTheConnectionWithEproto() throws Exception {
        try (ScriptedXenstored fake = new ScriptedXenstored(peer -> {
            int[] req = ScriptedXenstored.readRequest(peer);
            ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(2).putInt(req[1]).putInt(0).putInt(4097);
            ScriptedXenstored.send(peer, h.array());
            // Keep the socket open: the client must drop the connection by itself.
            ByteBuffer sink = ByteBuffer.allocate(64);
            while (peer.read(sink) >= 0) {
                sink.clear();
            }
        }); XenstoreClient xs = XenstoreClient.connect(fake.socket(), "oversize", TIMEOUT)) {
            assertThatThrownBy(() -> xs.read("/x")).isInstanceOfSatisfying(XenstoreException.class,
                    e -> assertThat(e.errno()).isEqualTo("EPROTO"));
            fake.awaitScript();
            assertThat(xs.isOpen()).isFalse();
            assertThatThrownBy(() -> xs.read("/x")).isInstanceOfSatisfying(XenstoreException.class,
                    e -> assertThat(e.errno()).isEqualTo("EPROTO"));
        }
    }

    @Test
    void directoryThatChangesBetweenPagesIsListedAgainFromTheStart() throws Exception {
        try (RealXenstored xs = RealXenstored.start(Profile.CXENSTORED)) {
            XenstoreCli cli = new XenstoreCli(xs.socketPath());
            List<String> seed = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String name = String.format("child-with-a-long-name-to-need-several-pages-%04d", i);
                seed.add("/big/" + name);
                seed.add("");
                if (i > 0) {
                    expected.add(name);
                }
            }
            String first = seed.get(0);
            cli.write(seed.toArray(String[]::new));
            AtomicBoolean removed = new AtomicBoolean();
            UnixSocketTransport socket = UnixSocketTransport.connect(xs.socketPath(), TIMEOUT);
            // Before the second page is asked for, another writer removes the first child. Every later child moves
            // forward in the byte list, so pages that did not start over would skip one.
            XsTransport interposed = new XsTransport() {
                @Override
                public void send(ByteBuffer bytes) throws IOException {
                    int type = bytes.order(ByteOrder.LITTLE_ENDIAN).getInt(bytes.position());
                    String payload = new String(bytes.array(), bytes.position() + 16, bytes.remaining() - 16);
                    if (type == XsOp.DIRECTORY_PART.code() && !payload.endsWith("\0" + "0\0")
                            && removed.compareAndSet(false, true)) {
                        cli.rm(first);
                    }
                    socket.send(bytes);
                }

                @Override
                public int read(ByteBuffer into) throws IOException {
                    return socket.read(into);
                }

                @Override
                public String describe() {
                    return socket.describe();
                }

                @Override
                public void close() {
                    socket.close();
                }
            };
            try (XenstoreClient client = new XenstoreClient(interposed, "pages", TIMEOUT, 3)) {
                List<String> children = client.directory("/big");
                assertThat(removed).isTrue();
                assertThat(children).containsExactlyElementsOf(expected);
            }
        }
    }
}
