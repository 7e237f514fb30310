package io.xensnap.internal.engine.reconcile;

import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.quiesce.AgentConnector;
import io.xensnap.internal.engine.reconcile.ReconcileReport.Code;
import io.xensnap.internal.qga.AgentException;
import io.xensnap.internal.qga.FreezeStatus;
import io.xensnap.internal.qga.GuestAgent;

/**
 * Thaws the guest of a create that was marked as freezing it and did not finish: xensnap may have died between the
 * freeze and the thaw, and neither the watchdog (it died with the process) nor anyone else would thaw it.
 */
final class GuestThaw {

    private GuestThaw() {
    }

    static void run(PendingOperation p, AgentConnector agents, Findings findings) {
        if (p.kind() != PendingOperation.Kind.CREATE || p.agent() == null) {
            return;
        }
        try (GuestAgent agent = agents.connect(p.agent())) {
            if (agent.status() == FreezeStatus.FROZEN) {
                int thawed = agent.thaw();
                findings.repaired(Code.GUEST_THAWED, "guest agent " + p.agent(), "the unfinished snapshot "
                        + p.snapshot() + " had left the guest's file systems frozen; " + thawed + " thawed");
            }
        } catch (AgentException e) {
            findings.reported(Code.PEER_UNREACHABLE, "guest agent " + p.agent(), "the unfinished snapshot "
                    + p.snapshot() + " froze the guest's file systems, and its agent did not answer ("
                    + e.getMessage() + "); they may still be frozen: restart qemu-ga in the guest and reconcile"
                    + " again, or thaw them in the guest (fsfreeze -u)");
        }
    }
}
