package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs {@code block-commit} and {@code block-stream} to completion. Jobs are started with {@code auto-dismiss: false}
 * so that a concluded job stays in {@code query-jobs} with its {@code error} until we dismiss it: the events alone do
 * not carry the reason of a failure.
 */
public final class BlockJobs {

    private final QmpConnection qmp;
    private final Duration timeout;
    private final Duration pollInterval;
    private final long speed;

    /**
     * @param timeout      upper bound for one job, start to dismissal
     * @param pollInterval how often progress is read while no event arrives
     */
    public BlockJobs(QmpConnection qmp, Duration timeout, Duration pollInterval) {
        this(qmp, timeout, pollInterval, 0);
    }

    private BlockJobs(QmpConnection qmp, Duration timeout, Duration pollInterval, long speed) {
        this.qmp = qmp;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
        if (speed < 0) {
            throw new IllegalArgumentException("speed must not be negative: " + speed);
        }
        this.speed = speed;
    }

    /**
     * @return jobs limited to {@code bytesPerSecond} (QEMU's {@code speed}; 0 means unlimited), so that they do not
     *         starve the host's other I/O
     */
    public BlockJobs withSpeed(long bytesPerSecond) {
        return new BlockJobs(qmp, timeout, pollInterval, bytesPerSecond);
    }

    /**
     * Active commit: merges the root layer of {@code device} (and everything down to {@code baseNode}) into
     * {@code baseNode}, which becomes the new root. QEMU mirrors guest writes until {@code BLOCK_JOB_READY}; then
     * {@code block-job-complete} switches over.
     *
     * @param device   the current root node-name or BlockBackend name
     * @param baseNode the node to commit into, or {@code null} for the bottom of the chain
     */
    public void commitActive(String jobId, String device, String baseNode, Consumer<JobProgress> progress)
            throws QmpException {
        ObjectNode args = qmp.arguments().put("device", device);
        if (baseNode != null) {
            args.put("base-node", baseNode);
        }
        run("block-commit", jobId, args, true, progress);
    }

    /**
     * Starts an active commit (see {@link #commitActive}) and returns at once: QEMU runs it unattended, so the caller
     * can close the connection and follow the job in short sessions of its own, then {@link #settle} it once it is
     * {@code ready}.
     */
    public void startCommitActive(String jobId, String device, String baseNode) throws QmpException {
        ObjectNode args = qmp.arguments().put("device", device);
        if (baseNode != null) {
            args.put("base-node", baseNode);
        }
        qmp.execute("block-commit", jobArguments(args, jobId));
    }

    /**
     * Starts an intermediate commit (see {@link #commit}) and returns at once: the job concludes by itself, with no
     * switch to complete, and QEMU rewrites the backing reference of the image above {@code topNode} to
     * {@code baseNode}. The caller follows it in short sessions and {@link #settle}s (dismisses) it once concluded.
     */
    public void startCommit(String jobId, String device, String topNode, String baseNode) throws QmpException {
        ObjectNode args = qmp.arguments().put("device", device).put("top-node", topNode).put("base-node", baseNode);
        qmp.execute("block-commit", jobArguments(args, jobId));
    }

    /**
     * Sets the speed limit of a running job ({@code block-job-set-speed}); QEMU applies it from the next chunk on.
     *
     * @param bytesPerSecond 0 for unlimited
     */
    public void setSpeed(String jobId, long bytesPerSecond) throws QmpException {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("speed must not be negative: " + bytesPerSecond);
        }
        qmp.execute("block-job-set-speed", qmp.arguments().put("device", jobId).put("speed", bytesPerSecond));
    }

    /** @return every job {@code query-jobs} lists, by id */
    public java.util.Map<String, JobProgress> all() throws QmpException {
        java.util.Map<String, JobProgress> out = new java.util.LinkedHashMap<>();
        for (JsonNode j : qmp.execute("query-jobs")) {
            JobProgress p = progressOf(j);
            out.put(p.jobId(), p);
        }
        return out;
    }

    /**
     * Intermediate commit: merges {@code topNode} (below the root) into {@code baseNode}; the root is untouched.
     */
    public void commit(String jobId, String device, String topNode, String baseNode, Consumer<JobProgress> progress)
            throws QmpException {
        ObjectNode args = qmp.arguments().put("device", device).put("top-node", topNode);
        if (baseNode != null) {
            args.put("base-node", baseNode);
        }
        run("block-commit", jobId, args, false, progress);
    }

    /**
     * Copies the data of the backing chain above {@code baseNode} into {@code node}, which then sits directly on
     * {@code baseNode} (or on nothing when it is {@code null}).
     */
    public void stream(String jobId, String node, String baseNode, Consumer<JobProgress> progress)
            throws QmpException {
        ObjectNode args = qmp.arguments().put("device", node);
        if (baseNode != null) {
            args.put("base-node", baseNode);
        }
        run("block-stream", jobId, args, false, progress);
    }

    /**
     * Cancels a job that is no longer wanted (e.g. after a timeout), waits until it concluded and dismisses it. A
     * ready active commit cancelled this way leaves the chain as it was.
     */
    public void cancel(String jobId) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (EventSubscription events = qmp.subscribe()) {
            qmp.execute("job-cancel", qmp.arguments().put("id", jobId));
            while (true) {
                Optional<JobProgress> job = query(jobId);
                if (job.isEmpty()) {
                    return;
                }
                if (job.get().status().equals("concluded")) {
                    qmp.execute("job-dismiss", qmp.arguments().put("id", jobId));
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw QmpException.of(Kind.TIMEOUT, qmp.domain(), "job " + jobId + " still "
                            + job.get().status() + " " + timeout + " after job-cancel");
                }
                events.poll(Duration.ofNanos(Math.min(left, pollInterval.toNanos())));
            }
        }
    }

    /** @return the job as {@code query-jobs} lists it, if it exists */
    public Optional<JobProgress> query(String jobId) throws QmpException {
        return find(qmp.execute("query-jobs"), jobId).map(BlockJobs::progressOf);
    }

    private void run(String command, String jobId, ObjectNode args, boolean completeWhenReady,
                     Consumer<JobProgress> progress) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (EventSubscription events = qmp.subscribe()) {
            qmp.execute(command, jobArguments(args, jobId));
            follow(command, jobId, completeWhenReady, progress, deadline, events);
        }
    }

    private ObjectNode jobArguments(ObjectNode args, String jobId) {
        args.put("job-id", jobId).put("auto-dismiss", false);
        if (speed > 0) {
            args.put("speed", speed);
        }
        return args;
    }

    /**
     * Takes over a job that an earlier process started and left in QEMU: an active commit in {@code ready} is
     * completed, a job still running is waited for (within the timeout), and a concluded job is dismissed.
     *
     * @throws QmpException {@code TIMEOUT} when the job is still running after the timeout (it is left as it is),
     *                      {@code JOB_FAILED} when it concluded with an error (it is dismissed)
     */
    public void settle(String jobId, Consumer<JobProgress> progress) throws QmpException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (EventSubscription events = qmp.subscribe()) {
            follow("job", jobId, true, progress, deadline, events);
        }
    }

    private void follow(String command, String jobId, boolean completeWhenReady, Consumer<JobProgress> progress,
                        long deadline, EventSubscription events) throws QmpException {
        JobProgress last = null;
        boolean completing = false;
        while (true) {
            JsonNode job = find(qmp.execute("query-jobs"), jobId).orElseThrow(() -> QmpException.of(
                    Kind.PROTOCOL, qmp.domain(), "job " + jobId + " vanished from query-jobs"));
            JobProgress now = progressOf(job);
            if (!now.equals(last)) {
                progress.accept(now);
                last = now;
            }
            switch (now.status()) {
                case "ready" -> {
                    if (completeWhenReady && !completing) {
                        qmp.execute("block-job-complete", qmp.arguments().put("device", jobId));
                        completing = true;
                        continue;
                    }
                }
                case "concluded" -> {
                    qmp.execute("job-dismiss", qmp.arguments().put("id", jobId));
                    if (job.hasNonNull("error")) {
                        String error = job.get("error").asText();
                        throw QmpException.reported(Kind.JOB_FAILED, qmp.domain(), error,
                                command + " job " + jobId + " failed: " + error);
                    }
                    return;
                }
                default -> {
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw QmpException.of(Kind.TIMEOUT, qmp.domain(), command + " job " + jobId + " still "
                        + now.status() + " after " + timeout + " (" + now.current() + "/" + now.total()
                        + "); it keeps running until cancelled");
            }
            // any event may mean a state change; otherwise look again after pollInterval for progress
            events.poll(Duration.ofNanos(Math.min(left, pollInterval.toNanos())));
        }
    }

    private static Optional<JsonNode> find(JsonNode jobs, String jobId) {
        for (JsonNode j : jobs) {
            if (jobId.equals(j.path("id").asText())) {
                return Optional.of(j);
            }
        }
        return Optional.empty();
    }

    private static JobProgress progressOf(JsonNode job) {
        return new JobProgress(job.path("id").asText(), job.path("type").asText(""), job.path("status").asText(""),
                job.path("current-progress").asLong(), job.path("total-progress").asLong());
    }
}
