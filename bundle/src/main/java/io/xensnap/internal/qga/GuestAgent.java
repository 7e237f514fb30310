package io.xensnap.internal.qga;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xensnap.internal.qga.AgentException.Kind;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * One conversation with the guest agent over its channel's socket. {@link #connect} synchronises first: the channel
 * is a plain byte stream that may still hold the answers (or half-read commands) of an earlier client that gave up, so
 * a {@code 0xFF} byte makes the agent drop whatever partial command it holds, and {@code guest-sync-delimited} with a
 * fresh random id is answered with {@code 0xFF} and that id; everything before it is skipped. Every step is bounded by
 * the same timeout. The methods are synchronized so that a watchdog can thaw on the conversation of a thread that is
 * stuck elsewhere: the device model serves only one client at a time, a second connection would not be answered.
 */
public final class GuestAgent implements AutoCloseable {

    private static final byte DELIMITER = (byte) 0xFF;

    private final Path socket;
    private final Duration timeout;
    private final ObjectMapper json;
    private final AgentChannel channel;

    private GuestAgent(Path socket, Duration timeout, ObjectMapper json, AgentChannel channel) {
        this.socket = socket;
        this.timeout = timeout;
        this.json = json;
        this.channel = channel;
    }

    /**
     * Connects to the agent's socket and synchronises.
     *
     * @param timeout the bound of each step (connect, sync, each command's answer)
     * @param ids     where the sync ids come from; random, so that a stale answer never matches
     * @throws AgentException CONNECTION when nobody listens on {@code socket}, TIMEOUT when the agent does not answer
     */
    public static GuestAgent connect(Path socket, Duration timeout, LongSupplier ids, ObjectMapper json)
            throws AgentException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(json, "json");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        AgentChannel channel;
        try {
            channel = AgentChannel.connect(socket, timeout);
        } catch (SocketTimeoutException e) {
            throw new AgentException(Kind.TIMEOUT, "cannot connect to the guest agent's socket " + socket + ": "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new AgentException(Kind.CONNECTION, "cannot connect to the guest agent's socket " + socket + ": "
                    + e.getMessage(), e);
        }
        GuestAgent agent = new GuestAgent(socket, timeout, json, channel);
        try {
            agent.sync(ids.getAsLong());
            return agent;
        } catch (AgentException | RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    private void sync(long id) throws AgentException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ObjectNode request = json.createObjectNode().put("execute", "guest-sync-delimited");
        request.putObject("arguments").put("id", id);
        byte[] text = (request + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[text.length + 1];
        bytes[0] = DELIMITER;
        System.arraycopy(text, 0, bytes, 1, text.length);
        try {
            channel.write(bytes, deadline);
            while (true) {
                channel.skipPast(DELIMITER, deadline);
                JsonNode answer = parse(channel.readLine(deadline), "guest-sync-delimited");
                if (answer.path("return").isIntegralNumber() && answer.path("return").asLong() == id) {
                    return;
                }
                // the answer to an earlier client's sync: keep looking for ours
            }
        } catch (IOException e) {
            throw failure("guest-sync-delimited", e);
        }
    }

    /**
     * {@code guest-fsfreeze-freeze}: the agent syncs and freezes every mounted file system of the guest.
     *
     * @return how many file systems the agent froze
     */
    public synchronized int freeze() throws AgentException {
        return execute("guest-fsfreeze-freeze").asInt();
    }

    /**
     * Runs {@code sync} in the guest ({@code guest-exec}) and waits until it has exited, at most {@code within}: the
     * guest's dirty pages go to its disks before a freeze, whose own sync the guest's writers wait through, so the
     * freeze finds little left to write. An agent that refuses {@code guest-exec} (many block it) or cannot start
     * {@code sync} is told no more; the freeze then does the whole sync, as it always did.
     *
     * @return whether the guest's {@code sync} ran and exited within {@code within}
     * @throws AgentException TIMEOUT or CONNECTION when the agent did not answer: the conversation is broken
     */
    public synchronized boolean syncFileSystems(Duration within) throws AgentException {
        return runToExit("sync", within);
    }

    /** {@code program} (found on the guest's PATH) run by {@code guest-exec}: whether it exited 0 within {@code within}. */
    synchronized boolean runToExit(String program, Duration within) throws AgentException {
        long deadline = System.nanoTime() + within.toNanos();
        ObjectNode exec = json.createObjectNode().put("path", program).put("capture-output", false);
        long pid;
        try {
            pid = execute("guest-exec", exec).path("pid").asLong(-1);
        } catch (AgentException e) {
            if (e.kind() == Kind.ERROR_REPLY) {
                return false;
            }
            throw e;
        }
        ObjectNode which = json.createObjectNode().put("pid", pid);
        long pause = 1;
        while (true) {
            JsonNode status = execute("guest-exec-status", which);
            if (status.path("exited").asBoolean(false)) {
                return status.path("exitcode").asInt(-1) == 0;
            }
            if (System.nanoTime() - deadline > 0) {
                // the freeze syncs the rest; the agent forgets the process once it is asked about it after its exit
                return false;
            }
            sleep(pause);
            pause = Math.min(pause * 2, 8);
        }
    }

    private static void sleep(long millis) throws AgentException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(Kind.CONNECTION, "interrupted while the guest synced its file systems", e);
        }
    }

    /** @return how many file systems the agent thawed (0 when none was frozen) */
    public synchronized int thaw() throws AgentException {
        return execute("guest-fsfreeze-thaw").asInt();
    }

    public synchronized FreezeStatus status() throws AgentException {
        JsonNode r = execute("guest-fsfreeze-status");
        return switch (r.asText()) {
            case "thawed" -> FreezeStatus.THAWED;
            case "frozen" -> FreezeStatus.FROZEN;
            default -> throw new AgentException(Kind.PROTOCOL, "guest-fsfreeze-status on " + socket
                    + " answered " + r + " (expected thawed or frozen)");
        };
    }

    /**
     * Sends {@code command} without waiting for its answer: after a freeze that timed out the agent may still freeze
     * later, when it runs again, and a thaw queued behind the freeze on the same stream then undoes it at once.
     */
    public synchronized void send(String command) throws AgentException {
        try {
            channel.write((json.createObjectNode().put("execute", command) + "\n").getBytes(StandardCharsets.UTF_8),
                    System.nanoTime() + timeout.toNanos());
        } catch (IOException e) {
            throw failure(command, e);
        }
    }

    /**
     * Reads and drops {@code count} answers, within {@code within}: the answers to commands sent without waiting
     * ({@link #send}) or whose wait timed out. The agent must be read until it has answered: an agent whose answer
     * finds the client gone stops reading the channel until the next client connects, and would leave a queued thaw
     * unread.
     */
    public synchronized void drain(int count, Duration within) throws AgentException {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            for (int i = 0; i < count; i++) {
                channel.readLine(deadline);
            }
        } catch (IOException e) {
            throw failure(count + " outstanding answer(s)", e);
        }
    }

    private JsonNode execute(String command) throws AgentException {
        return execute(command, null);
    }

    private JsonNode execute(String command, ObjectNode arguments) throws AgentException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ObjectNode request = json.createObjectNode().put("execute", command);
        if (arguments != null) {
            request.set("arguments", arguments);
        }
        try {
            channel.write((request + "\n").getBytes(StandardCharsets.UTF_8), deadline);
            JsonNode answer = parse(channel.readLine(deadline), command);
            JsonNode error = answer.get("error");
            if (error != null) {
                throw new AgentException(Kind.ERROR_REPLY, command + " failed in the guest agent: "
                        + error.path("class").asText("") + ": " + error.path("desc").asText(""));
            }
            JsonNode ret = answer.get("return");
            if (ret == null) {
                throw new AgentException(Kind.PROTOCOL, "the answer of the guest agent to " + command
                        + " has neither return nor error: " + abbreviate(answer.toString()));
            }
            return ret;
        } catch (IOException e) {
            throw failure(command, e);
        }
    }

    private JsonNode parse(String line, String command) throws AgentException {
        try {
            JsonNode node = json.readTree(line);
            if (node == null || !node.isObject()) {
                throw new AgentException(Kind.PROTOCOL, "the guest agent answered " + command
                        + " with something that is not a JSON object: " + abbreviate(line));
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new AgentException(Kind.PROTOCOL, "the guest agent answered " + command + " with something that is"
                    + " not JSON: " + abbreviate(line), e);
        }
    }

    private AgentException failure(String command, IOException e) {
        if (e instanceof SocketTimeoutException) {
            return new AgentException(Kind.TIMEOUT, "the guest agent on " + socket + " did not answer " + command
                    + " within " + timeout + " (is qemu-ga running in the guest?)", e);
        }
        return new AgentException(Kind.CONNECTION, command + " on the guest agent's socket " + socket + " failed: "
                + e.getMessage(), e);
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)";
    }

    /** Closes the socket; whatever the agent still sends is dropped (the next client synchronises past it). */
    @Override
    public void close() {
        channel.close();
    }

    @Override
    public String toString() {
        return "GuestAgent[" + socket + "]";
    }
}
