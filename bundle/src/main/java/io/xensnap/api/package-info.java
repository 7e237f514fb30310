/**
 * The public API of xensnap: disk snapshots of Xen domains, and domain snapshots (memory and disks).
 *
 * <p>Every failure is reported as one checked {@link io.xensnap.api.SnapshotException} carrying a stable
 * {@link io.xensnap.api.SnapshotError} code that callers may switch on; the message is for people.
 */
@Export
@Version("1.3.0")
package io.xensnap.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
