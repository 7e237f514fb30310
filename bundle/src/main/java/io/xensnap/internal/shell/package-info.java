/**
 * The Karaf console commands of scope {@code snapshot} and their completers. Registered by Karaf's shell extender
 * ({@code Karaf-Commands} header); the package's imports of the shell API are optional, so the bundle runs without a
 * shell too.
 */
package io.xensnap.internal.shell;
