/**
 * The crash-safe catalog: one JSON file per domain uuid, written atomically, with the pending mark of an
 * unfinished operation.
 */
package io.xensnap.internal.catalog;
