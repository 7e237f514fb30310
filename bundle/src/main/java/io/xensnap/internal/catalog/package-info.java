/**
 * The crash-safe catalog: one JSON file per domain uuid, written atomically, and a journal of the saves since (one
 * CRC-checked record and one fdatasync per save), with the pending mark of an unfinished operation.
 */
package io.xensnap.internal.catalog;
