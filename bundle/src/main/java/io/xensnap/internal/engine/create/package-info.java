/** Create: validation into a plan, the live QMP transaction, the offline qemu-img path, where overlays go. */
package io.xensnap.internal.engine.create;
