package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Profile;
import io.xensnap.harness.ShortCommand;
import io.xensnap.internal.qmp.QmpException.Kind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HumanMonitorTest {

    private RealQemu qemu;

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
    }

    private ShortCommand.Result info(java.nio.file.Path image) {
        return ShortCommand.run(Duration.ofSeconds(10),
                List.of(Prerequisite.QEMU_IMG.require().toString(), "info", image.toString()));
    }

    @Test
    void driveDelReleasesTheImageForQemuImg() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).disks(2).start();
        var image = qemu.disk(1).image();
        assertThat(info(image).exitCode()).isEqualTo(1);
        assertThat(info(image).output()).contains("Failed to get shared \"write\" lock");

        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            new HumanMonitor(c).driveDel("drive1");

            assertThat(new BlockDevices(c).list()).extracting(BlockDevice::device).containsExactly("drive0");
        }
        assertThat(info(image).exitCode()).isZero();
    }

    @Test
    void anHmpErrorInASuccessfulReplyIsDetected() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            HumanMonitor hmp = new HumanMonitor(c);

            QmpException e = catchThrowableOfType(QmpException.class, () -> hmp.driveDel("nosuch"));

            assertThat(e.kind()).isEqualTo(Kind.HMP_ERROR);
            assertThat(e.desc()).isEqualTo("Device 'nosuch' not found");
            assertThat(hmp.execute("info status")).isEqualTo("VM status: running\r\n");
        }
    }
}
