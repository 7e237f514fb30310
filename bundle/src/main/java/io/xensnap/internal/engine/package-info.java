/**
 * The snapshot engine and what its operations share: domain resolution and locks, the undo log, error translation,
 * the peers and hooks.
 */
package io.xensnap.internal.engine;
