/**
 * qemu-img for images no QEMU has open: argv only through an injected {@link io.xensnap.internal.qemuimg.ProcessRunner},
 * a timeout on every call, and guards for what qemu-img itself accepts silently (docs/qemu.md#guards).
 */
package io.xensnap.internal.qemuimg;
