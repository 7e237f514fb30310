package io.xensnap.internal.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.xensnap.internal.engine.Progress.Unit;

class ConsoleProgressTest {

    @Test
    void aMergeIsShownInPercentOncePerChangeDisksAsTheyFinish() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8));

        p.report("merge xvdb", 0, 4 << 20, Unit.BYTES);
        p.report("merge xvdb", 1 << 19, 4 << 20, Unit.BYTES);
        p.report("merge xvdb", (1 << 19) + 1, 4 << 20, Unit.BYTES);
        p.report("merge xvdb", 4 << 20, 4 << 20, Unit.BYTES);
        p.report("xvdb merged", 1, 2, Unit.DISKS);

        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join(System.lineSeparator(),
                "  merge xvdb: 0% (0.0 of 4.0 MiB)",
                "  merge xvdb: 12% (0.5 of 4.0 MiB)",
                "  merge xvdb: 100% (4.0 of 4.0 MiB)",
                "  xvdb merged (1 of 2 disks)", ""));
    }

    @Test
    void aMergeWithNothingToCopySaysSoInsteadOfAPercentageOfNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8));

        // an overlay the guest never wrote to: QEMU's job goes from created to ready with 0 of 0 bytes
        p.report("merge xvda", 0, 0, Unit.BYTES);
        p.report("merge xvda", 0, 0, Unit.BYTES);
        p.report("xvda merged", 1, 2, Unit.DISKS);
        // a total that was 0 at the first look and grew: the percentage follows once there is something
        p.report("merge xvdb", 0, 0, Unit.BYTES);
        p.report("merge xvdb", 0, 2 << 20, Unit.BYTES);
        p.report("merge xvdb", 2 << 20, 2 << 20, Unit.BYTES);

        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join(System.lineSeparator(),
                "  merge xvda: nothing to copy so far",
                "  xvda merged (1 of 2 disks)",
                "  merge xvdb: nothing to copy so far",
                "  merge xvdb: 0% (0.0 of 2.0 MiB)",
                "  merge xvdb: 100% (2.0 of 2.0 MiB)", ""));
    }

    @Test
    void aStepIsPrintedEscaped() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8));

        p.report("merge \u001b[2J\u202exvdb", 0, 1, Unit.BYTES);
        p.report("xvdb\u0085 merged", 1, 1, Unit.DISKS);

        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join(System.lineSeparator(),
                "  merge \\x1b[2J\\u202exvdb: 0% (0.0 of 0.0 MiB)",
                "  xvdb\\x85 merged (1 of 1 disk)", ""));
    }
}
