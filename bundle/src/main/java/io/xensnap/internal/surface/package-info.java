/**
 * What the console and the MBean share: parsing what people type, what they may see, and how a reconcile report is
 * printed.
 */
package io.xensnap.internal.surface;
