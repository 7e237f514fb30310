package io.xensnap.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small Linux guest under QEMU (TCG) that runs the real {@code qemu-ga} of Debian's {@code qemu-guest-agent}, so
 * that the agent's {@code guest-fsfreeze-freeze} freezes the guest's file system and never this machine's. Its QEMU is
 * a {@link RealQemu} of profile XEN_QDISK (the same node names and QMP socket as a domain's device model), booted
 * with {@link AgentGuestImage}'s kernel and initramfs; its first disk is mounted in the guest, which appends to a file
 * there in a loop without syncing and reports each append on its console ({@code GUEST W <n> <uptime>}), so a test
 * sees the appends stall while the file system is frozen. Its agent can be stopped and continued (SIGSTOP/SIGCONT in
 * the guest) through a second virtio-serial port.
 */
public final class AgentGuest {

    private static final Pattern WRITE = Pattern.compile("GUEST W (\\d+) ([0-9.]+)");
    private static final Duration BOOT = Duration.ofSeconds(120);

    private final RealQemu qemu;
    private final RealQemu.GuestFiles files;

    private AgentGuest(RealQemu qemu) {
        this.qemu = qemu;
        this.files = Objects.requireNonNull(qemu.guestFiles(), "not an agent guest: " + qemu);
    }

    /**
     * Waits until the guest booted {@code qemu} (started with {@link RealQemu.Builder#agentGuest}) runs its agent and
     * has appended at least once.
     */
    public static AgentGuest awaitBoot(RealQemu qemu) {
        AgentGuest g = new AgentGuest(qemu);
        g.awaitConsole(WRITE, BOOT);
        String console = g.console();
        if (console.contains("GUEST MOUNT failed") || console.contains("GUEST MODULE")) {
            throw new IllegalStateException("the agent guest did not come up cleanly; console:\n" + console);
        }
        return g;
    }

    /** Starts an agent guest with one fresh qcow2 data disk in {@code dir} and waits for its boot. */
    public static AgentGuest start(Path dir) {
        RealQemu q = RealQemu.builder(RealQemu.Profile.XEN_QDISK).directory(dir)
                .agentGuest(AgentGuestImage.cached(), dir.resolve("qga.sock")).start();
        try {
            return awaitBoot(q);
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    public RealQemu qemu() {
        return qemu;
    }

    /** @return the UNIX socket where the guest's agent channel is served */
    public Path agentSocket() {
        return files.agentSocket();
    }

    /** @return what the guest printed on its serial console so far */
    public String console() {
        try {
            return Files.readString(files.console(), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the number of the last append the guest reported done, 0 before the first */
    public int lastWrite() {
        Matcher m = WRITE.matcher(console());
        int last = 0;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    /** Waits until the guest reports an append after append {@code n} (the file system takes writes again). */
    public int awaitWriteAfter(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int last = lastWrite();
            if (last > n) {
                return last;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the agent guest reported no append after " + n + " within "
                        + timeout + "; console tail:\n" + tail());
            }
            pause();
        }
    }

    /** SIGSTOP to the guest's qemu-ga: it stops answering, and what is sent to it waits in the channel. */
    public void stopAgent() {
        control("stop-agent");
    }

    /** SIGCONT to the guest's qemu-ga. */
    public void continueAgent() {
        control("cont-agent");
    }

    private void control(String command) {
        String echo = "GUEST CONTROL " + command;
        int before = count(echo);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(files.controlSocket()));
            ByteBuffer b = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (count(echo) == before) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("the agent guest did not confirm " + command + "; console tail:\n"
                            + tail());
                }
                pause();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the agent guest's control port", e);
        }
    }

    private int count(String line) {
        String c = console();
        int n = 0;
        for (int i = c.indexOf(line); i >= 0; i = c.indexOf(line, i + 1)) {
            n++;
        }
        return n;
    }

    private void awaitConsole(Pattern p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!p.matcher(console()).find()) {
            if (!qemu.isAlive()) {
                throw new IllegalStateException("the agent guest's QEMU exited; log:\n" + qemu.log() + "\nconsole:\n"
                        + console());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the agent guest printed no " + p + " within " + timeout
                        + "; console:\n" + console());
            }
            pause();
        }
    }

    /** @return the last lines of the console, for failure messages */
    public String tail() {
        String c = console();
        return c.length() <= 2000 ? c : c.substring(c.length() - 2000);
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the agent guest", e);
        }
    }
}
