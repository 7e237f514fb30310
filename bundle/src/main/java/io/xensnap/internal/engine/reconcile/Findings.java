package io.xensnap.internal.engine.reconcile;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Finding;

/** Collects the findings of one reconcile run and logs each once, with the domain in the prefix. */
final class Findings {

    private static final Logger LOG = LoggerFactory.getLogger(Findings.class);

    private final String uuid;
    private final List<Finding> found = new ArrayList<>();

    Findings(String uuid) {
        this.uuid = uuid;
    }

    void repaired(Code code, String subject, String detail) {
        Finding f = new Finding(code, true, subject, detail);
        LOG.info("[{}] reconcile: {}", uuid, f.line());
        found.add(f);
    }

    void reported(Code code, String subject, String detail) {
        Finding f = new Finding(code, false, subject, detail);
        LOG.warn("[{}] reconcile: {}", uuid, f.line());
        found.add(f);
    }

    ReconcileReport report() {
        return new ReconcileReport(uuid, found);
    }
}
