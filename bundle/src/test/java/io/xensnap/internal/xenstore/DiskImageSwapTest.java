package io.xensnap.internal.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xensnap.harness.Devid;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenHost;
import io.xensnap.harness.XenHost.Backend;
import io.xensnap.harness.XenHost.Format;
import io.xensnap.harness.XenstoreCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

// The XenHost in try-with-resources is the layout the test reads; closing it is all the body needs of it.
@SuppressWarnings("try")
class DiskImageSwapTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    // the xenstore directories of domain 4's disks, as host() below lays them out
    private static final String XVDA_BACKEND = "/local/domain/0/backend/qdisk/4/" + Devid.XVDA;
    private static final String XVDA_LIBXL = "/libxl/4/device/vbd/" + Devid.XVDA;
    private static final String XVDB_BACKEND = "/local/domain/0/backend/vbd/4/" + Devid.XVDB;

    private static XenHost host(RealXenstored xs) {
        return XenHost.builder(xs).domid(4)
                .disk("xvda", Backend.QDISK, Format.RAW, Path.of("/images/base.img"))
                .disk("xvdb", Backend.PHY, Format.RAW, Path.of("/dev/vg0/data"))
                .build();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void swapShowsTheNewParamsInTheBackendAndLibxlCopyToTheCli(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "swap", TIMEOUT)) {
            DomainDisk xvda = new DomainDisks(client).disks(4).get(0);
            DomainDisk after = new DiskImageSwap(client).swap(xvda, LibxlFormat.QCOW2, "/images/overlay-1.qcow2");

            XenstoreCli cli = new XenstoreCli(xs.socketPath());
            assertThat(cli.read(XVDA_BACKEND + "/params"))
                    .isEqualTo("qcow2:/images/overlay-1.qcow2");
            assertThat(cli.read(XVDA_LIBXL + "/params")).isEqualTo("qcow2:/images/overlay-1.qcow2");
            assertThat(after.format()).isEqualTo(LibxlFormat.QCOW2);
            assertThat(new DomainDisks(client).disks(4).get(0)).isEqualTo(after);
            // Nothing else changed: the other disk and this disk's other keys.
            assertThat(cli.read(XVDA_BACKEND + "/mode")).isEqualTo("w");
            assertThat(cli.read(XVDB_BACKEND + "/params")).isEqualTo("/dev/vg0/data");

            // And back, as a revert does: raw is written the libxl way, aio.
            new DiskImageSwap(client).swap(after, LibxlFormat.RAW, "/images/base.img");
            assertThat(cli.read(XVDA_BACKEND + "/params")).isEqualTo("aio:/images/base.img");
            assertThat(cli.read(XVDA_LIBXL + "/params")).isEqualTo("aio:/images/base.img");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aReaderNeverSeesTheBackendAndTheLibxlCopyDisagree(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "swap", TIMEOUT);
             XenstoreClient reader = XenstoreClient.connect(xs.socketPath(), "reader", TIMEOUT)) {
            AtomicBoolean stop = new AtomicBoolean();
            List<String> torn = new ArrayList<>();
            int[] reads = {0};
            Thread watcher = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        List<String> pair = reader.transaction(tx -> List.of(
                                tx.read(XVDA_BACKEND + "/params"),
                                tx.read(XVDA_LIBXL + "/params")));
                        reads[0]++;
                        if (!pair.get(0).equals(pair.get(1))) {
                            torn.add(pair.toString());
                        }
                    }
                } catch (XenstoreException e) {
                    torn.add(e.toString());
                }
            });
            watcher.start();
            DiskImageSwap swap = new DiskImageSwap(client);
            DomainDisk disk = new DomainDisks(client).disks(4).get(0);
            for (int i = 0; i < 50; i++) {
                disk = swap.swap(disk, LibxlFormat.QCOW2, "/images/overlay-" + i + ".qcow2");
            }
            stop.set(true);
            watcher.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(torn).isEmpty();
            assertThat(reads[0]).isPositive();
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aDiskChangedSinceItWasListedIsNotSwapped(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "swap", TIMEOUT)) {
            DomainDisk listed = new DomainDisks(client).disks(4).get(0);
            XenstoreCli cli = new XenstoreCli(xs.socketPath());
            cli.write(XVDA_BACKEND + "/params", "qcow2:/images/someone-else.qcow2");

            assertThatThrownBy(() -> new DiskImageSwap(client).swap(listed, LibxlFormat.QCOW2, "/images/mine.qcow2"))
                    .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("ESTALE"));
            assertThat(cli.read(XVDA_BACKEND + "/params"))
                    .isEqualTo("qcow2:/images/someone-else.qcow2");
            assertThat(cli.read(XVDA_LIBXL + "/params")).isEqualTo("aio:/images/base.img");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aPhyDiskTakesRawImagesOnly(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "swap", TIMEOUT)) {
            DomainDisk xvdb = new DomainDisks(client).disks(4).get(1);
            assertThatThrownBy(() -> new DiskImageSwap(client).swap(xvdb, LibxlFormat.QCOW2, "/images/x.qcow2"))
                    .isInstanceOf(IllegalArgumentException.class);
            new DiskImageSwap(client).swap(xvdb, LibxlFormat.RAW, "/dev/vg0/data-snap");
            assertThat(new XenstoreCli(xs.socketPath()).read(XVDB_BACKEND + "/params"))
                    .isEqualTo("/dev/vg0/data-snap");
        }
    }

    /**
     * The limits {@link DiskImageSwap#refusal} checks, measured on the real daemons: the longest value it accepts is
     * written by both, one byte more is what oxenstored refuses (E2BIG), so the check is neither looser nor stricter
     * than the stricter daemon.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void theLongestValueTheCheckAcceptsIsWrittenByBothDaemons(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs);
             XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "swap", TIMEOUT)) {
            DomainDisk xvda = new DomainDisks(client).disks(4).get(0);
            String fits = "/images/" + "a".repeat(DiskImageSwap.VALUE_MAX - "qcow2:/images/".length());
            String tooLong = fits + "b";
            assertThat(DiskImageSwap.refusal(xvda, LibxlFormat.QCOW2, fits)).isEmpty();
            assertThat(DiskImageSwap.refusal(xvda, LibxlFormat.QCOW2, tooLong)).hasValueSatisfying(r -> assertThat(r)
                    .contains("2049 bytes").contains("oxenstored stores at most 2048"));

            DomainDisk after = new DiskImageSwap(client).swap(xvda, LibxlFormat.QCOW2, fits);
            XenstoreCli cli = new XenstoreCli(xs.socketPath());
            assertThat(cli.read("/local/domain/0/backend/qdisk/4/51712/params")).isEqualTo("qcow2:" + fits);
            assertThat(cli.read("/libxl/4/device/vbd/51712/params")).isEqualTo("qcow2:" + fits);
            if (p == Profile.OXENSTORED) {
                assertThatThrownBy(() -> new DiskImageSwap(client).swap(after, LibxlFormat.QCOW2, tooLong))
                        .isInstanceOfSatisfying(XenstoreException.class, e -> assertThat(e.errno()).isEqualTo("E2BIG"));
            } else {
                new DiskImageSwap(client).swap(after, LibxlFormat.QCOW2, tooLong);
            }
        }
    }
}
