package io.xensnap.internal.xl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.internal.engine.Errors;
import io.xensnap.internal.qemuimg.JdkProcessRunner;

/**
 * {@link XlDomainControl} with the real process runner. The real xl and its happy paths run on the Xen test bed
 * ({@code DomainSnapshotIT}); here only what no real xl does on demand, each with a stand-in named for its fault.
 */
class XlDomainControlTest {

    @TempDir
    Path dir;

    @Test
    void anXlThatCannotBeStartedIsToolFailedNamingTheCommand() {
        XlDomainControl xl = new XlDomainControl(new JdkProcessRunner(), dir.resolve("no-such-xl"),
                Duration.ofSeconds(5));
        assertThatThrownBy(() -> xl.unpause(7))
                .isInstanceOfSatisfying(DomainControlException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DomainControlException.Reason.NOT_RUN);
                    assertThat(e.argv()).containsExactly(dir.resolve("no-such-xl").toString(), "unpause", "7");
                    SnapshotException se = Errors.xl("domain 7", e);
                    assertThat(se.code()).isEqualTo(SnapshotError.TOOL_FAILED);
                    assertThat(se.getMessage()).contains("no-such-xl unpause 7 could not be started");
                });
    }

    @Test
    void anXlThatNeverAnswersIsKilledAtTheConfiguredTimeout() throws Exception {
        Path xl = script("xl-that-never-answers", "echo 'waiting for a lock' >&2; exec sleep 60");
        XlDomainControl control = new XlDomainControl(new JdkProcessRunner(), xl, Duration.ofMillis(500));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> control.save(3, dir.resolve("img"), true))
                .isInstanceOfSatisfying(DomainControlException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DomainControlException.Reason.TIMEOUT);
                    assertThat(e.argv()).containsExactly(xl.toString(), "save", "-p", "3",
                            dir.resolve("img").toString());
                    assertThat(e.getMessage()).contains("waiting for a lock");
                    assertThat(Errors.xl("domain 3", e).code()).isEqualTo(SnapshotError.TIMEOUT);
                });
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    }

    @Test
    void anXlListOfAnotherLayoutIsBadOutputNotAGuessedState() throws Exception {
        Path xl = script("xl-list-of-another-layout", "echo 'Name ID State'; echo 'guest 4 running'");
        XlDomainControl control = new XlDomainControl(new JdkProcessRunner(), xl, Duration.ofSeconds(10));
        assertThatThrownBy(() -> control.state(4))
                .isInstanceOfSatisfying(DomainControlException.class, e -> {
                    assertThat(e.reason()).isEqualTo(DomainControlException.Reason.BAD_OUTPUT);
                    assertThat(Errors.xl("domain 4", e).code()).isEqualTo(SnapshotError.TOOL_FAILED);
                });
    }

    @Test
    void domainStatesAreXlsSixFlags() {
        assertThat(new DomainState("--p---").paused()).isTrue();
        assertThat(new DomainState("-b----").paused()).isFalse();
        assertThat(new DomainState("---s--").ending()).isTrue();
        assertThatThrownBy(() -> new DomainState("running")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DomainState("p-----")).isInstanceOf(IllegalArgumentException.class);
    }

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }
}
