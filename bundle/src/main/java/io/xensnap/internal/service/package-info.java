/** The Declarative Services components that wire the engine to its peers and register the snapshot service. */
package io.xensnap.internal.service;
