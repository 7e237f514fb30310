package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VirtualDeviceTest {

    @ParameterizedTest
    @CsvSource({
        // the examples of docs/xen-host.md#device-numbers and the edges of each range
        "xvda, 51712", "xvdb, 51728", "xvda1, 51713", "xvdp, 51952", "xvdp15, 51967",
        "xvdq, 268439552", "xvda16, 268435472", "xvdaa, 268442112", "xvdzz255, 268615167",
        "hda, 768", "hdb, 832", "hdc, 5632", "hdd, 5696", "hda63, 831",
        "sda, 2048", "sdb, 2064", "sdp15, 2303",
    })
    void vdevAndDevidMapBothWays(String vdev, int devid) {
        assertThat(VirtualDevice.devid(vdev)).isEqualTo(devid);
        assertThat(VirtualDevice.vdev(devid)).isEqualTo(vdev);
    }

    @ParameterizedTest
    @CsvSource({"d0p0, 51712", "d1p2, 51730", "d16p0, 268439552", "51712, 51712", "0xca00, 51712", "0145000, 51712"})
    void otherSpellingsGiveTheSameNumbers(String vdev, int devid) {
        assertThat(VirtualDevice.devid(vdev)).isEqualTo(devid);
    }

    @ParameterizedTest
    @ValueSource(strings = {"xvd", "xvda0", "xvda01", "xvda256", "hde", "hda64", "sdq", "sda16", "vda", "xvdA", "",
        "d1p256", "4294967296"})
    void namesLibxlRefusesAreRefused(String vdev) {
        assertThatThrownBy(() -> VirtualDevice.devid(vdev)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 255, 65535, -1})
    void devidsOutsideEveryRangeHaveNoName(int devid) {
        assertThatThrownBy(() -> VirtualDevice.vdev(devid)).isInstanceOf(IllegalArgumentException.class);
    }
}
