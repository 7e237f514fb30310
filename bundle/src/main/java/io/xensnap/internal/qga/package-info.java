/**
 * A client of the QEMU guest agent ({@code qemu-ga}) over the UNIX socket the domain's device model serves for the
 * agent's channel: it synchronises with {@code guest-sync-delimited} and freezes, thaws and queries the guest's file
 * systems. One conversation at a time and every wait bounded; its failures are {@link
 * io.xensnap.internal.qga.AgentException}s, translated to the API's codes by the engine.
 */
package io.xensnap.internal.qga;
