/** Revert of a shut-off domain to a snapshot, with undo points on every disk. */
package io.xensnap.internal.engine.revert;
