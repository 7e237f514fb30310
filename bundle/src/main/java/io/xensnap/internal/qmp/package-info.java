/**
 * A QMP client over QEMU's UNIX monitor socket and the typed block operations the engine needs. One connection per
 * operation: QEMU serves one client per monitor, and libxl also connects per operation
 * (docs/qemu.md#one-client-at-a-time).
 */
package io.xensnap.internal.qmp;
