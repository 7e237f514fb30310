package io.xensnap.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path the caller resolved and checked is looked at as it is, never resolved again: a directory swapped for a link
 * after the caller's resolution is refused, not followed to wherever the link leads.
 */
class SecureDirectoryRuleTest {

    private final SecureDirectoryRule rule = new SecureDirectoryRule(0);

    @Test
    void aResolvedDirectoryIsTrustedWithTheIdentityOfThatDirectory(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("roots/vm"));
        Path real = dir.toRealPath();

        assertThat(rule.checkResolved(real)).isEqualTo(new SecureDirectoryRule.Trusted(
                new SecureDirectoryRule.Checked(real, FileIdentity.of(real))));
    }

    @Test
    void aResolvedDirectorySwappedForALinkSinceIsRefusedNotFollowed(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("roots/vm"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path real = dir.toRealPath();
        Files.move(dir, tmp.resolve("roots/vm.real"), StandardCopyOption.ATOMIC_MOVE);
        Files.createSymbolicLink(dir, outside);

        assertThat(rule.checkResolved(real)).isInstanceOfSatisfying(SecureDirectoryRule.Refused.class, r -> assertThat(
                r.reason()).isEqualTo("directory " + real + " is not a directory (any more: a link or another file"
                        + " took its place)"));
        // check() resolves by itself, and so follows the link to the directory it leads to now
        Path now = outside.toRealPath();
        assertThat(rule.check(dir)).isInstanceOfSatisfying(SecureDirectoryRule.Trusted.class, t -> assertThat(
                t.directory().real()).isEqualTo(now));
    }

    @Test
    void aComponentAboveSwappedForALinkIsRefusedToo(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("roots/vm/disks"));
        Files.createDirectories(tmp.resolve("outside/disks"));
        Path real = dir.toRealPath();
        Files.move(tmp.resolve("roots/vm"), tmp.resolve("roots/vm.real"), StandardCopyOption.ATOMIC_MOVE);
        Files.createSymbolicLink(tmp.resolve("roots/vm"), tmp.resolve("outside"));

        assertThat(rule.checkResolved(real)).isInstanceOfSatisfying(SecureDirectoryRule.Refused.class, r -> assertThat(
                r.reason()).startsWith("directory " + real.getParent() + " is not a directory"));
    }
}
