package io.xensnap.internal.qemuimg;

/**
 * {@code qemu-img check --output=json}: exit code 0 (clean), 2 (corruptions) or 3 (leaks only) and the counts.
 *
 * @param checkErrors errors that kept the check from finishing part of its work
 */
public record CheckResult(int exitCode, long corruptions, long leaks, long checkErrors) {

    /** @return {@code true} when the image has neither corruptions nor leaks */
    public boolean clean() {
        return exitCode == 0 && corruptions == 0 && leaks == 0 && checkErrors == 0;
    }
}
