/** A domain's life (pause, save, restore, destroy) through libxl's own command line tool, {@code xl}, run by argv. */
package io.xensnap.internal.xl;
