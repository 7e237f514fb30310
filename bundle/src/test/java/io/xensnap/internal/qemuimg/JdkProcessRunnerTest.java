package io.xensnap.internal.qemuimg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class JdkProcessRunnerTest {

    private final JdkProcessRunner runner = new JdkProcessRunner();

    @Test
    void keepsExitCodeAndBothStreamsApart() throws Exception {
        ProcessResult r = runner.run(List.of("ls", "/", "/nonexistent-xensnap"), Duration.ofSeconds(10));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stdout()).contains("usr");
        assertThat(r.stderr()).contains("/nonexistent-xensnap").contains("No such file or directory");
    }

    @Test
    void moreOutputThanAPipeHoldsDoesNotBlockTheProgram() throws Exception {
        ProcessResult r = runner.run(List.of("head", "-c", "1000000", "/dev/zero"), Duration.ofSeconds(10));

        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).hasSize(1_000_000);
    }

    @Test
    void aProgramRunningTooLongIsKilled() {
        long start = System.nanoTime();
        TimeoutException e = catchThrowableOfType(TimeoutException.class,
                () -> runner.run(List.of("sleep", "30"), Duration.ofMillis(200)));

        assertThat(e).hasMessageContaining("sleep 30 did not finish within PT0.2S");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5000);
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)).isEmpty();
    }

    @Test
    void aMissingProgramCannotBeStarted() {
        IOException e = catchThrowableOfType(IOException.class,
                () -> runner.run(List.of("/nonexistent-xensnap/qemu-img"), Duration.ofSeconds(5)));

        assertThat(e).hasMessageContaining("/nonexistent-xensnap/qemu-img");
    }
}
