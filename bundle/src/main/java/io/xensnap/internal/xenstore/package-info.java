/**
 * Xenstore: a client for the daemon's socket protocol (cxenstored and oxenstored 4.17), and the disk layout libxl
 * keeps there (listing a domain's disks, swapping a disk's image in one transaction). Private to the bundle.
 */
package io.xensnap.internal.xenstore;
