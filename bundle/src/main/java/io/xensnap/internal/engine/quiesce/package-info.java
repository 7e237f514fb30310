/**
 * Application-consistent snapshots: the guest's file systems frozen through its agent (qemu-ga, over the domain's
 * libxl channel {@code org.qemu.guest_agent.0}) for exactly the snapshot's QMP transaction, and thawed on every path:
 * after the transaction, when it fails, by a watchdog after the configured longest freeze even if the creating thread
 * is stuck, and by reconcile when xensnap died while the guest was frozen.
 */
package io.xensnap.internal.engine.quiesce;
