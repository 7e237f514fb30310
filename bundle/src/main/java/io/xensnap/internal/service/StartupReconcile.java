package io.xensnap.internal.service;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Finding;

/**
 * Reconciles every domain once when the engine comes up, on its own thread: with many domains, or a peer that does
 * not answer until its timeout, it would otherwise hold up the activation of the component and so Karaf's boot. What
 * a crash left behind is logged (unresolved findings at WARN, repaired ones at INFO) and then one summary line; a
 * failure is logged too and never escapes, because the service must stay usable for the operator to look into it.
 */
final class StartupReconcile implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(StartupReconcile.class);

    @FunctionalInterface
    interface All {
        List<ReconcileReport> reconcileAll() throws SnapshotException;
    }

    private final All all;

    StartupReconcile(All all) {
        this.all = all;
    }

    /** @return the started daemon thread, for the component to interrupt when it goes away */
    Thread start() {
        Thread t = new Thread(this, "xensnap-reconcile");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public void run() {
        try {
            List<ReconcileReport> reports = all.reconcileAll();
            if (cutShort()) {
                return;
            }
            int repaired = 0;
            int unresolved = 0;
            int clean = 0;
            for (ReconcileReport r : reports) {
                if (r.clean()) {
                    clean++;
                }
                for (Finding f : r.findings()) {
                    if (f.repaired()) {
                        repaired++;
                    } else {
                        unresolved++;
                    }
                    // the engine logs each finding of a domain it checked (WARN, repaired ones INFO); a domain it
                    // skipped because another operation held it was not checked, so that line is logged here
                    if (f.code() == Code.DOMAIN_BUSY) {
                        LOG.warn("[{}] reconcile: {}", r.domainUuid(), f.line());
                    }
                }
            }
            LOG.info("reconcile at start: {} domain(s) checked, {} clean, {} finding(s) repaired, {} left for an"
                    + " operator (snapshot:reconcile shows them again)", reports.size(), clean, repaired, unresolved);
        } catch (SnapshotException e) {
            if (!cutShort()) {
                LOG.error("reconcile at start failed: {}", e.codedMessage());
            }
        } catch (RuntimeException e) {
            if (!cutShort()) {
                LOG.error("reconcile at start failed", e);
            }
        }
    }

    /**
     * The component interrupts this thread when it is deactivated (configuration change, bundle stop); the engine
     * then reports the waits it was in as interrupted, which says nothing about the domains, so no summary is given.
     */
    private static boolean cutShort() {
        if (Thread.currentThread().isInterrupted()) {
            LOG.info("reconcile at start was cut short: xensnap was deactivated; findings just above that say"
                    + " 'interrupted' come from that, and the next start checks again");
            return true;
        }
        return false;
    }
}
