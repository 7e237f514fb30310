package io.xensnap.internal.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import io.xensnap.harness.RealQemu;
import io.xensnap.harness.RealQemu.Profile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VmControlTest {

    private RealQemu qemu;

    @AfterEach
    void tearDown() {
        if (qemu != null) {
            qemu.close();
        }
    }

    @Test
    void stopPausesAndContResumes() throws Exception {
        qemu = RealQemu.builder(Profile.PLAIN).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            VmControl vm = new VmControl(c);
            assertThat(vm.status()).isEqualTo(new RunState("running", true));

            vm.stop();
            assertThat(vm.status()).isEqualTo(new RunState("paused", false));

            vm.cont();
            assertThat(vm.status()).isEqualTo(new RunState("running", true));
        }
    }

    @Test
    void aMachineThatNeverRanStaysInPrelaunchWhenStopped() throws Exception {
        // never cont here: it would boot SeaBIOS under TCG
        qemu = RealQemu.builder(Profile.XEN_QDISK).start();
        try (QmpConnection c = QmpTesting.client(qemu).connect()) {
            VmControl vm = new VmControl(c);
            assertThat(vm.status()).isEqualTo(new RunState("prelaunch", false));

            vm.stop();
            assertThat(vm.status()).isEqualTo(new RunState("prelaunch", false));
        }
    }
}
