/**
 * The configuration (PID {@code io.xensnap}): its metatype, the validation that refuses a bad change and keeps the
 * one in force, and the validated {@code Settings} registered for the rest.
 */
package io.xensnap.internal.config;
