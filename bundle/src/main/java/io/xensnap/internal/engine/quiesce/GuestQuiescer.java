package io.xensnap.internal.engine.quiesce;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.DomainView;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.libxl.LibxlConfigException;
import io.xensnap.internal.libxl.LibxlDomain;
import io.xensnap.internal.qga.AgentException;
import io.xensnap.internal.qga.GuestAgent;

/**
 * Freezes a running domain's guest for a live create. {@link #prepare} decides the policy, finds the agent's channel in
 * libxl's config and synchronises with the agent before the create changes anything, so that a create that requires
 * a freeze and cannot have one fails with nothing to undo. {@link Agent#freeze()} right before the QMP transaction;
 * {@link Freeze#close()} right after it, on every path. A watchdog thaws after the configured longest freeze, on the
 * same conversation (the device model serves one client at a time), even when the creating thread is stuck.
 */
public final class GuestQuiescer {

    /** The channel name qemu-ga's packages and every management stack use for the agent. */
    public static final String CHANNEL = "org.qemu.guest_agent.0";

    private static final Logger LOG = LoggerFactory.getLogger(GuestQuiescer.class);

    private final QuiesceSettings settings;
    private final AgentConnector connector;
    private final DomainConfigStore libxl;
    private final Watchdog watchdog;
    private final Clock clock;

    public GuestQuiescer(QuiesceSettings settings, DomainConfigStore libxl, Watchdog watchdog, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.connector = new AgentConnector(settings.timeout());
        this.libxl = Objects.requireNonNull(libxl, "libxl");
        this.watchdog = Objects.requireNonNull(watchdog, "watchdog");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public AgentConnector connector() {
        return connector;
    }

    /**
     * @param requested the request's policy, null for the configured one
     * @return the agent to freeze with, or one that does not freeze (policy never, no channel, or {@code try} with an
     *         agent that did not answer)
     * @throws SnapshotException {@code require} only: UNSUPPORTED without a channel, QUIESCE_FAILED when the agent
     *                           did not answer
     */
    public Agent prepare(DomainView domain, String snapshot, QuiescePolicy requested) throws SnapshotException {
        QuiescePolicy policy = requested != null ? requested : settings.policy();
        if (policy == QuiescePolicy.NEVER || !domain.running()) {
            return new Agent(policy, domain.label(), snapshot, null, null);
        }
        Optional<Path> socket = channel(domain, policy);
        if (socket.isEmpty()) {
            if (policy == QuiescePolicy.REQUIRE) {
                throw new SnapshotException(SnapshotError.UNSUPPORTED, domain.label() + ": snapshot " + snapshot
                        + " requires a freeze, but the domain has no guest agent channel (a libxl channel named "
                        + CHANNEL + " with connection=socket, see docs/operations.md); nothing was changed");
            }
            LOG.debug("{}: no guest agent channel, snapshot {} is not quiesced", domain.label(), snapshot);
            return new Agent(policy, domain.label(), snapshot, null, null);
        }
        try {
            GuestAgent conversation = connector.connect(socket.get());
            try {
                presync(conversation, domain.label(), snapshot);
            } catch (AgentException | RuntimeException e) {
                conversation.close();
                throw e;
            }
            return new Agent(policy, domain.label(), snapshot, socket.get(), conversation);
        } catch (AgentException e) {
            if (policy == QuiescePolicy.REQUIRE) {
                throw Errors.agent(domain.label() + ": snapshot " + snapshot + " requires a freeze and was not"
                        + " taken, nothing was changed", e);
            }
            LOG.warn("{}: snapshot {} is taken without freezing the guest (quiesce try): {}", domain.label(),
                    snapshot, e.getMessage());
            return new Agent(policy, domain.label(), snapshot, null, null);
        }
    }

    /**
     * The guest's {@code sync} before the freeze, while no lock of libxl is held yet: the freeze's own sync, which the
     * guest's writers wait through, then has only what was written in the few milliseconds since (docs/operations.md,
     * *Application-consistent snapshots*).
     */
    private void presync(GuestAgent conversation, String label, String snapshot) throws AgentException {
        if (!settings.presync()) {
            return;
        }
        long start = System.nanoTime();
        boolean synced = conversation.syncFileSystems(settings.timeout());
        LOG.debug("{}: the guest's sync before the freeze for snapshot {}: {} after {} ms", label, snapshot,
                synced ? "done" : "not done (guest-exec refused, or sync slower than the step timeout)",
                (System.nanoTime() - start) / 1_000_000);
    }

    private Optional<Path> channel(DomainView domain, QuiescePolicy policy) throws SnapshotException {
        try {
            return libxl.channelSocket(new LibxlDomain(domain.domid().getAsInt(), UUID.fromString(domain.uuid())),
                    CHANNEL);
        } catch (LibxlConfigException e) {
            if (e.reason() == LibxlConfigException.Reason.NOT_FOUND) {
                // a domain libxl did not create has no stored config, so no channel either
                return Optional.empty();
            }
            if (policy == QuiescePolicy.REQUIRE) {
                throw Errors.libxl(domain.label(), e);
            }
            LOG.warn("{}: cannot read the guest agent channel from libxl's config, the snapshot is not quiesced: {}",
                    domain.label(), e.getMessage());
            return Optional.empty();
        }
    }

    /** The agent of one create; closing it ends the conversation. */
    public final class Agent implements AutoCloseable {
        private final QuiescePolicy policy;
        private final String label;
        private final String snapshot;
        private final Path socket;
        private final GuestAgent conversation;
        private boolean handedOver;

        private Agent(QuiescePolicy policy, String label, String snapshot, Path socket, GuestAgent conversation) {
            this.policy = policy;
            this.label = label;
            this.snapshot = snapshot;
            this.socket = socket;
            this.conversation = conversation;
        }

        /** @return the agent's socket when this create will freeze the guest: the pending mark records it */
        public Optional<Path> socket() {
            return conversation == null ? Optional.empty() : Optional.of(socket);
        }

        /**
         * Freezes the guest, the watchdog armed before the request goes out.
         *
         * @throws SnapshotException QUIESCE_FAILED, {@code require} only; with {@code try} a failed freeze returns a
         *                           freeze that did not happen
         */
        public Freeze freeze() throws SnapshotException {
            if (conversation == null) {
                return new Freeze(null, null);
            }
            Freeze f = new Freeze(conversation, clock.instant());
            f.armed = watchdog.arm(settings.maxFreeze(), f::watchdogThaw);
            try {
                int count = conversation.freeze();
                f.frozen = true;
                LOG.debug("{}: guest froze {} file system(s) for snapshot {}", label, count, snapshot);
                return f;
            } catch (AgentException e) {
                f.armed.cancel();
                undoLateFreeze(e);
                if (policy == QuiescePolicy.REQUIRE) {
                    throw Errors.agent(label + ": snapshot " + snapshot + " requires a freeze and was not taken,"
                            + " nothing was changed", e);
                }
                LOG.warn("{}: snapshot {} is taken without freezing the guest (quiesce try): {}", label, snapshot,
                        e.getMessage());
                return new Freeze(null, null);
            }
        }

        // A freeze that timed out may still happen when the agent gets to it (it is slow in the freeze, or stopped): a
        // thaw queued behind it on the same stream undoes it at once. The conversation stays open until both are
        // answered, in the background: an agent whose answer finds the client gone stops reading the channel until
        // the next client comes, and would leave the thaw unread with the guest frozen. After an error answer the
        // agent has thawed what it froze.
        private void undoLateFreeze(AgentException e) {
            try {
                if (e.kind() == AgentException.Kind.TIMEOUT) {
                    conversation.send("guest-fsfreeze-thaw");
                    handedOver = true;
                    watchdog.arm(Duration.ZERO, this::awaitLateThaw);
                } else if (e.kind() == AgentException.Kind.ERROR_REPLY) {
                    conversation.thaw();
                }
            } catch (AgentException again) {
                LOG.error("{}: the freeze for snapshot {} failed and the thaw sent after it failed too; if the guest's"
                        + " file systems are frozen, thaw them in the guest (fsfreeze -u): {}", label, snapshot,
                        again.getMessage());
            }
        }

        private void awaitLateThaw() {
            Duration within = settings.maxFreeze().plus(settings.timeout());
            try {
                conversation.drain(2, within);
                LOG.info("{}: the late freeze for snapshot {} was answered and undone", label, snapshot);
            } catch (AgentException e) {
                LOG.error("{}: the guest agent answered neither the freeze for snapshot {} nor the thaw behind it"
                        + " within {}; the guest's file systems may be frozen once the agent runs again: connect to"
                        + " the agent (any client makes it read the queued thaw) or thaw them in the guest"
                        + " (fsfreeze -u): {}", label, snapshot, within, e.getMessage());
            } finally {
                conversation.close();
            }
        }

        @Override
        public void close() {
            // a conversation handed to the late thaw is closed by it
            if (conversation != null && !handedOver) {
                conversation.close();
            }
        }

        /** One freeze; {@link #close()} thaws. */
        public final class Freeze implements AutoCloseable {
            private final GuestAgent agent;
            private final Instant requested;
            private volatile Watchdog.Armed armed;
            private volatile boolean frozen;
            private volatile boolean watchdogFired;
            private volatile Instant thawed;
            private boolean quiescedThrough;
            private String thawProblem;

            private Freeze(GuestAgent agent, Instant requested) {
                this.agent = agent;
                this.requested = requested;
            }

            /** The transaction returned: the snapshot is quiesced when the guest stayed frozen until now. */
            public void transactionDone() {
                quiescedThrough = frozen && !watchdogFired;
            }

            private void watchdogThaw() {
                watchdogFired = true;
                LOG.warn("{}: the guest stayed frozen for {} during snapshot {}; the watchdog thaws it", label,
                        settings.maxFreeze(), snapshot);
                try {
                    agent.thaw();
                    thawedNow();
                } catch (AgentException e) {
                    LOG.error("{}: the watchdog's thaw for snapshot {} failed: {}", label, snapshot, e.getMessage());
                }
            }

            private synchronized void thawedNow() {
                if (thawed == null) {
                    thawed = clock.instant();
                }
            }

            /** Thaws; a failure is kept for {@link #thawProblem()}, not thrown: the snapshot may be taken already. */
            @Override
            public void close() {
                if (!frozen) {
                    return;
                }
                armed.cancel();
                try {
                    agent.thaw();
                    thawedNow();
                } catch (AgentException e) {
                    if (thawed == null) {
                        thawProblem = "the guest agent on " + socket + " did not confirm the thaw (" + e.getMessage()
                                + "); the thaw waits in the channel until the agent runs again, and reconcile"
                                + " checks the guest";
                        LOG.error("{}: snapshot {}: {}", label, snapshot, thawProblem);
                    }
                }
            }

            /** @return whether the agent froze the guest */
            public boolean frozen() {
                return frozen;
            }

            /** @return whether the guest was frozen for the whole transaction */
            public boolean quiesced() {
                return quiescedThrough;
            }

            /** @return from the freeze request to the thaw's answer; zero when the guest was not frozen */
            public Duration frozenFor() {
                if (!frozen) {
                    return Duration.ZERO;
                }
                Instant end = thawed != null ? thawed : clock.instant();
                return Duration.between(requested, end);
            }

            /** @return why the thaw is not confirmed, when it is not */
            public Optional<String> thawProblem() {
                return Optional.ofNullable(thawProblem);
            }
        }
    }
}
