package io.xensnap.acceptance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.xensnap.internal.engine.EngineHooks;
import io.xensnap.internal.engine.create.CreatePlan;

/**
 * The faults {@link QuiesceOnXenIT} injects into a quiesced create on the real host, at points of the create that
 * nothing outside the process can hit on cue: while the guest is frozen, or just before the freeze. Each is named by a
 * word in {@link ProviderMain}'s {@code qcreate} request:
 *
 * <ul>
 *   <li>{@code none}: no fault;</li>
 *   <li>{@code empty-overlay:PATH}: while frozen, the overlay xensnap prepared is made an empty file, which QEMU
 *       cannot open: the transaction fails;</li>
 *   <li>{@code stuck:MS}: the creating thread stops for MS ms while the guest is frozen (the watchdog's case);</li>
 *   <li>{@code stop-agent}: while frozen, the guest's {@code qemu-ga} gets SIGSTOP, so the thaw is not answered;</li>
 *   <li>{@code stop-agent-before-freeze}: the agent answered the sync and is stopped before the freeze request;</li>
 *   <li>{@code halt}: the JVM dies while the guest is frozen (no {@code finally}, no watchdog: a crash).</li>
 * </ul>
 *
 * The agent is stopped from dom0 through a control channel of the guest: a libxl channel whose socket the domain's
 * device model serves, read by a loop in the guest's init ({@code qga-guest-init}) that signals {@code qemu-ga} and
 * answers each command once done.
 */
final class GuestFaults implements EngineHooks {

    private final String spec;
    private final Path control;

    GuestFaults(String spec, Path control) {
        this.spec = spec;
        this.control = control;
    }

    @Override
    public void beforeTransaction(CreatePlan plan) throws IOException {
        if (spec.equals("stop-agent-before-freeze")) {
            command(control, "STOP", Duration.ofSeconds(30));
        }
    }

    @Override
    public void whileFrozen(CreatePlan plan) throws Exception {
        if (spec.startsWith("empty-overlay:")) {
            Files.write(Path.of(spec.substring("empty-overlay:".length())), new byte[0]);
        } else if (spec.startsWith("stuck:")) {
            Thread.sleep(Long.parseLong(spec.substring("stuck:".length())));
        } else if (spec.equals("stop-agent")) {
            command(control, "STOP", Duration.ofSeconds(30));
        } else if (spec.equals("halt")) {
            System.out.println("GuestFaults: halting while the guest is frozen");
            System.out.flush();
            Runtime.getRuntime().halt(99);
        } else if (!spec.equals("none") && !spec.equals("stop-agent-before-freeze")) {
            throw new IllegalArgumentException("unknown fault " + spec);
        }
    }

    /**
     * Sends one command over the guest's control channel and waits for the guest's answer, the command's word
     * followed by {@code " done"} on a line of its own (earlier answers a client left unread come first).
     */
    static void command(Path socket, String word, Duration timeout) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            // a read blocks without a timeout of its own: closing the channel ends it
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(timeout.toMillis());
                    ch.close();
                } catch (InterruptedException | IOException e) {
                    // answered in time, or already closed
                }
            }, "guest-control-timeout");
            closer.setDaemon(true);
            closer.start();
            OutputStream out = Channels.newOutputStream(ch);
            out.write((word + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = Channels.newInputStream(ch);
            long deadline = System.nanoTime() + timeout.toNanos();
            StringBuilder line = new StringBuilder();
            while (System.nanoTime() < deadline) {
                int b;
                try {
                    b = in.read();
                } catch (IOException e) {
                    break;
                }
                if (b < 0) {
                    break;
                }
                if (b != '\n') {
                    line.append((char) b);
                } else if (line.toString().strip().equals(word + " done")) {
                    closer.interrupt();
                    return;
                } else {
                    line.setLength(0);
                }
            }
            throw new IOException("the guest did not answer " + word + " on " + socket + " within " + timeout);
        }
    }
}
