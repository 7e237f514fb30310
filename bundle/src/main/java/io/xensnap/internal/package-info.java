/** Implementation of xensnap; private to the bundle. */
package io.xensnap.internal;
