/** EventAdmin events after each operation; optional: the bundle works without an EventAdmin. */
package io.xensnap.internal.events;
