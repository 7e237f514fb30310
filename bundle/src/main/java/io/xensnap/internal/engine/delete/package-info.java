/** Delete of a snapshot: internal from the image, external merged back into its base. */
package io.xensnap.internal.engine.delete;
