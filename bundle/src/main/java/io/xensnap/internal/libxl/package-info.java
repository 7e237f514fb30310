/**
 * libxl's stored domain configuration ({@code /var/lib/xen/userdata-d.<domid>.<uuid>.libxl-json}): reading it,
 * changing a disk's {@code pdev_path} and {@code format}, and writing it back byte-compatible with libxl's own yajl
 * output, under libxl's domain-userdata lock.
 */
package io.xensnap.internal.libxl;
