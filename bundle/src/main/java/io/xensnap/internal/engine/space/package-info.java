/** Space: the bytes each snapshot holds and what deleting it would give back, counted from the images' qcow2 tables. */
package io.xensnap.internal.engine.space;
