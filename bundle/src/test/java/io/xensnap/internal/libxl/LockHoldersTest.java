package io.xensnap.internal.libxl;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The /proc/locks line format, as this kernel prints it (golden lines taken from a live system). */
class LockHoldersTest {

    @Test
    void aHeldFlockIsParsedWithHexDeviceAndDecimalInode() {
        assertThat(LockHolders.FlockEntry.parse("2: FLOCK  ADVISORY  WRITE 12913 fe:00:2146470 0 EOF"))
                .contains(new LockHolders.FlockEntry(12913, 0xfe, 0, 2146470));
    }

    @Test
    void waitersAndOtherLockKindsAreNotHolders() {
        assertThat(LockHolders.FlockEntry.parse("2: -> FLOCK  ADVISORY  WRITE 12914 fe:00:2146470 0 EOF")).isEmpty();
        assertThat(LockHolders.FlockEntry.parse("3: POSIX  ADVISORY  WRITE 6343 fe:00:2155254 0 EOF")).isEmpty();
        assertThat(LockHolders.FlockEntry.parse("4: OFDLCK ADVISORY  WRITE -1 00:1b:20 0 EOF")).isEmpty();
        assertThat(LockHolders.FlockEntry.parse("")).isEmpty();
    }

    @Test
    void aFdinfoLockLineParsesLikeAProcLocksLine() {
        assertThat(LockHolders.FlockEntry.parse("\t1: FLOCK  ADVISORY  WRITE 13202 fe:00:2146479 0 EOF"))
                .contains(new LockHolders.FlockEntry(13202, 0xfe, 0, 2146479));
    }

    @Test
    void stDevIsSplitLikeGlibcMajorAndMinor() {
        assertThat(LockHolders.major(0xfe00)).isEqualTo(0xfe);
        assertThat(LockHolders.minor(0xfe00)).isZero();
        // nvme0n1p3 is 259:3; glibc puts minor bits 8..19 above the major's low 12 bits
        long nvme = (259L << 8) | 3;
        assertThat(LockHolders.major(nvme)).isEqualTo(259);
        assertThat(LockHolders.minor(nvme)).isEqualTo(3);
        long bigMinor = ((0x12345L & ~0xffL) << 12) | (0x45) | (8L << 8);
        assertThat(LockHolders.major(bigMinor)).isEqualTo(8);
        assertThat(LockHolders.minor(bigMinor)).isEqualTo(0x12345);
    }

    @Test
    void entriesOnTheSameDeviceWinOverAnInodeTwinElsewhere() {
        List<String> lines = List.of(
                "1: FLOCK  ADVISORY  WRITE 100 00:2f:777 0 EOF",
                "2: FLOCK  ADVISORY  WRITE 200 fe:00:777 0 EOF",
                "3: FLOCK  ADVISORY  WRITE 300 fe:00:778 0 EOF");

        assertThat(LockHolders.matching(lines, 0xfe00, 777)).extracting(LockHolders.FlockEntry::pid).containsExactly(200L);
        // btrfs and overlayfs show another device in /proc/locks than stat does: then the inode alone decides
        assertThat(LockHolders.matching(lines, 0x0801, 777)).extracting(LockHolders.FlockEntry::pid).containsExactly(100L, 200L);
    }
}
