package io.xensnap.internal.engine.create;

/**
 * The limits create enforces before it changes anything ({@link CreateGuards}).
 *
 * @param maxChainLength       the most images a disk's backing chain may hold after an external snapshot, the base
 *                             and the new overlay included
 * @param minFreeBytes         the least free space (bytes usable by root) the file system receiving an overlay must
 *                             keep; 0 for no floor
 * @param minFreePercent       the same as a share of that file system's size; 0 for no floor
 * @param maxInternalSnapshots the most internal snapshots one image may hold after an internal snapshot
 */
public record CreateLimits(int maxChainLength, long minFreeBytes, int minFreePercent, int maxInternalSnapshots) {

    /** QEMU's own bound on the internal snapshots of one qcow2 image. */
    public static final int QCOW2_MAX_SNAPSHOTS = 65_536;
    /** Beyond this a chain is a mistake, and counting it would read as many headers per create. */
    public static final int MAX_CHAIN_LENGTH = 1_000;

    public CreateLimits {
        if (maxChainLength < 2 || maxChainLength > MAX_CHAIN_LENGTH) {
            throw new IllegalArgumentException("maxChainLength must be 2 to " + MAX_CHAIN_LENGTH + ": "
                    + maxChainLength);
        }
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException("minFreeBytes must not be negative: " + minFreeBytes);
        }
        if (minFreePercent < 0 || minFreePercent > 99) {
            throw new IllegalArgumentException("minFreePercent must be 0 to 99: " + minFreePercent);
        }
        if (maxInternalSnapshots < 1 || maxInternalSnapshots > QCOW2_MAX_SNAPSHOTS) {
            throw new IllegalArgumentException("maxInternalSnapshots must be 1 to " + QCOW2_MAX_SNAPSHOTS + ": "
                    + maxInternalSnapshots);
        }
    }

    /** @return the defaults of the configuration's metatype */
    public static CreateLimits defaults() {
        return new CreateLimits(30, 1L << 30, 5, 100);
    }

    /** @return these limits with no free-space floor, for a test that fills a file system on purpose */
    public CreateLimits withoutFreeSpaceFloor() {
        return new CreateLimits(maxChainLength, 0, 0, maxInternalSnapshots);
    }
}
