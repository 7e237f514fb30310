package io.xensnap.internal.schedule;

import java.util.List;

import io.xensnap.api.SnapshotException;
import io.xensnap.internal.xenstore.XenDomain;

/** The running guests, as xenstore lists them when a run starts. */
@FunctionalInterface
public interface RunningDomains {

    /** @throws SnapshotException {@code HYPERVISOR_ERROR} when xenstore cannot be read */
    List<XenDomain> list() throws SnapshotException;
}
