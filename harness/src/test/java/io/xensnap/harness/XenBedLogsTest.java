package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of {@link XenBed} that need no Xen: failure tails from the serial log, and the image check. */
class XenBedLogsTest {

    @TempDir
    Path dir;

    @Test
    void tailsSplitXenFromDom0AndDropSystemdColoursAndSpinners() throws Exception {
        String early = IntStream.range(0, 50).mapToObj(i -> "(XEN) [    1.0] early " + i).collect(Collectors.joining("\n"));
        Path log = dir.resolve("serial.log");
        Files.writeString(log, early + "\n"
                + "Begin: Mounting root file system ... done.\r\n"
                + "\u001bM\u001b[K[\u001b[0;32m  OK  \u001b[0m] Finished \u001b[0;1;39mxen.service\u001b[0m - LSB: Xen daemons.\n"
                + "\u001bM[  *** ] Job xendomains.service/start running (1min 2s / 5min 59s)\n"
                + "(XEN) [   11.9] PCI add device 0000:00:03.0\n", StandardCharsets.UTF_8);

        String tails = XenBed.tails(log);

        String xen = tails.substring(tails.indexOf("--- Xen console"), tails.indexOf("--- dom0 console"));
        String dom0 = tails.substring(tails.indexOf("--- dom0 console"));
        assertThat(xen).contains("early 49", "early 11", "PCI add device").doesNotContain("early 10\n", "Begin:");
        assertThat(dom0).contains("Begin: Mounting root file system ... done.\n",
                "[  OK  ] Finished xen.service - LSB: Xen daemons.").doesNotContain("\u001b", "\r", "Job xendomains", "(XEN)");
    }

    @Test
    void tailsOfAMissingLogSayNothingRatherThanFail() {
        assertThat(XenBed.tails(dir.resolve("none.log"))).contains("--- Xen console", "--- dom0 console");
    }

    @Test
    void anImageNeedsAllItsFilesAndAPathQemuCanPassInInitrd() throws Exception {
        for (String f : new String[] {"xen", "vmlinuz", "initrd.img", "dom0.img"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        assertThatThrownBy(() -> new XenBed.Image(dir)).hasMessageContaining("no manifest.txt");
        Files.writeString(dir.resolve("manifest.txt"), "xen-utils-4.17 4.17.7\n");
        assertThat(new XenBed.Image(dir).dir()).isEqualTo(dir);

        Path comma = Files.createDirectories(dir.resolve("a,b"));
        for (String f : new String[] {"xen", "vmlinuz", "initrd.img", "dom0.img", "manifest.txt"}) {
            Files.writeString(comma.resolve(f), "x");
        }
        assertThatThrownBy(() -> new XenBed.Image(comma)).hasMessageContaining("comma or space");
    }
}
