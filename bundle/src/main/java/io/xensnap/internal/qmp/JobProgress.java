package io.xensnap.internal.qmp;

import java.util.Objects;

/**
 * A block job's state as {@code query-jobs} reports it. {@code current} and {@code total} are in QEMU's own units
 * (bytes for commit and stream); {@code total} may grow while the job runs.
 */
public record JobProgress(String jobId, String type, String status, long current, long total) {

    public JobProgress {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
    }
}
