/**
 * Reconcile: finishing or taking back interrupted operations, drift between the peers and the catalog, orphaned
 * files.
 */
package io.xensnap.internal.engine.reconcile;
