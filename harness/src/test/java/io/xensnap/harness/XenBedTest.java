package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Xen test bed (docs/xenbed.md) proves itself: a real Xen 4.17 host boots, {@code xl} answers, a PV guest runs
 * on one qcow2 and one raw qdisk disk served by the real device-model QEMU, reads what dom0 wrote and writes what dom0
 * then reads, the guest's QMP socket answers in dom0, and everything stops with the bed.
 *
 * <p>Tagged {@code xenbed}: not part of the default build; {@code scripts/test-xenbed} or
 * {@code mvn -pl harness test -Dxenbed} runs it.
 */
@Tag("xenbed")
class XenBedTest {

    private static final String DOMU = "xenbed-domu";
    private static final int MIB = 1024 * 1024;

    @Test
    void realXenHostRunsAPvGuestOnQcow2AndRawQdisksAndStopsCleanly() throws Exception {
        long t0 = System.nanoTime();
        XenBed.Image image = XenBed.Image.locate();
        log("image " + image.dir() + " ready after " + secs(t0));

        long qemuPid;
        Path run;
        try (XenBed bed = XenBed.boot(image, Duration.ofMinutes(5))) {
            qemuPid = bed.qemuPid();
            run = bed.share().getParent();
            log("dom0 ready after " + bed.bootTime().toMillis() / 1000.0 + " s: " + bed.readyInfo().strip());
            try {
                exercise(bed);
            } catch (Throwable t) {
                System.err.println("xenbed failure, consoles and dom0's Xen logs:" + bed.diagnostics());
                System.err.println(bed.run(Duration.ofSeconds(30), "sh", "-c",
                        "tail -n 30 /var/log/xen/*.log /var/log/xen/console/*.log 2>&1").stdout());
                throw t;
            }
        }
        assertThat(RealQemuTest.gone(qemuPid)).as("the host QEMU ended with the bed").isTrue();
        assertThat(run).as("the overlay and share are removed").doesNotExist();
        log("whole test " + secs(t0));
    }

    private void exercise(XenBed bed) throws Exception {
        Duration shortCmd = Duration.ofSeconds(60);

        // the agent hands back stdout, stderr and the exit code separately, and passes argv without a shell
        XenBed.Result echo = bed.run(shortCmd, "sh", "-c", "printf out; printf err >&2; exit 3", "ignored $ arg");
        assertThat(echo.exitCode()).isEqualTo(3);
        assertThat(echo.stdout()).isEqualTo("out");
        assertThat(echo.stderr()).isEqualTo("err");
        bed.put("a $b 'c'\n".getBytes(StandardCharsets.UTF_8), "/root/in/put.txt", "0600");
        assertThat(bed.run(shortCmd, "stat", "-c", "%a %s", "/root/in/put.txt").orThrow().stdout().strip())
                .isEqualTo("600 9");

        long t = System.nanoTime();
        XenBed.Result info = bed.run(shortCmd, "xl", "info").orThrow();
        assertThat(info.stdout()).containsPattern("xen_version\\s+: 4\\.17\\.").containsPattern("virt_caps\\s+: pv");
        log("xl info in " + secs(t));

        // one qcow2 and one raw disk, each with a known first MiB
        bed.run(shortCmd, "mkdir", "-p", "/images").orThrow();
        bed.run(shortCmd, "qemu-img", "create", "-q", "-f", "qcow2", "/images/a.qcow2", "64M").orThrow();
        bed.run(shortCmd, "qemu-img", "create", "-q", "-f", "raw", "/images/b.raw", "64M").orThrow();
        bed.run(shortCmd, "qemu-io", "-f", "qcow2", "-c", "write -P 0xa1 0 1M", "/images/a.qcow2").orThrow();
        bed.run(shortCmd, "qemu-io", "-f", "raw", "-c", "write -P 0xb2 0 1M", "/images/b.raw").orThrow();
        bed.put(String.join("\n",
                "name = \"" + DOMU + "\"",
                "type = \"pv\"",
                "kernel = \"/var/lib/xenbed/domu/vmlinuz\"",
                "ramdisk = \"/var/lib/xenbed/domu/initrd.gz\"",
                "extra = \"console=hvc0 quiet\"",
                "memory = 128",
                "vcpus = 1",
                "on_crash = \"destroy\"",
                "disk = [ \"format=qcow2,vdev=xvda,access=rw,backendtype=qdisk,target=/images/a.qcow2\",",
                "         \"format=raw,vdev=xvdb,access=rw,backendtype=qdisk,target=/images/b.raw\" ]",
                "").getBytes(StandardCharsets.UTF_8), "/etc/xen/" + DOMU + ".cfg", "0644");

        t = System.nanoTime();
        bed.run(Duration.ofMinutes(3), "xl", "create", "/etc/xen/" + DOMU + ".cfg").orThrow();
        String domid = bed.run(shortCmd, "xl", "domid", DOMU).orThrow().stdout().strip();
        assertThat(domid).matches("[1-9][0-9]*");
        log("xl create (domid " + domid + ") in " + secs(t));

        // the guest reports what it read and wrote on its console, which xenconsoled logs in dom0
        t = System.nanoTime();
        String console = "";
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!console.contains("GUEST DONE") && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            console = bed.run(shortCmd, "cat", "/var/log/xen/console/guest-" + DOMU + ".log").stdout();
        }
        log("guest done " + secs(t) + " after xl create returned");
        String z = sha256(fill('Z'));
        assertThat(console).as("the guest's console").contains(
                "GUEST xvda read " + sha256(fill(0xa1)), "GUEST xvda wrote " + z,
                "GUEST xvdb read " + sha256(fill(0xb2)), "GUEST xvdb wrote " + z, "GUEST DONE");

        // the device model's QMP socket answers, and the disks are libxl's qdisks
        t = System.nanoTime();
        XenBed.Result qmp = bed.run(shortCmd, List.of("socat", "-t", "5", "-", "UNIX-CONNECT:/var/run/xen/qmp-libxl-" + domid),
                "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"query-block\"}\n".getBytes(StandardCharsets.UTF_8)).orThrow();
        assertThat(qmp.stdout()).contains("\"QMP\"", "\"node-name\": \"xvda-qcow2\"", "\"node-name\": \"xvdb-raw\"",
                "\"file\": \"/images/a.qcow2\"", "\"file\": \"/images/b.raw\"");
        log("QMP query-block in " + secs(t));
        String backend = "/local/domain/0/backend/qdisk/" + domid;
        assertThat(bed.run(shortCmd, "xenstore-read", backend + "/51712/params", backend + "/51728/params")
                .orThrow().stdout()).isEqualTo("qcow2:/images/a.qcow2\naio:/images/b.raw\n");

        t = System.nanoTime();
        bed.run(shortCmd, "xl", "destroy", DOMU).orThrow();
        assertThat(bed.run(shortCmd, "xl", "list").orThrow().stdout()).doesNotContain(DOMU);
        log("xl destroy in " + secs(t));

        // what the guest wrote reached the image files through the qdisk backend
        for (String[] disk : List.of(new String[] {"qcow2", "/images/a.qcow2"}, new String[] {"raw", "/images/b.raw"})) {
            XenBed.Result read = bed.run(shortCmd, "qemu-io", "-r", "-f", disk[0], "-c", "read -P 0x5a 1M 1M", disk[1])
                    .orThrow();
            assertThat(read.stdout()).as(disk[1]).doesNotContain("verification failed").contains("read 1048576/1048576");
        }
    }

    private static byte[] fill(int b) {
        byte[] a = new byte[MIB];
        Arrays.fill(a, (byte) b);
        return a;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static String secs(long since) {
        return String.format("%.1f s", (System.nanoTime() - since) / 1e9);
    }

    private static void log(String s) {
        System.out.println("[xenbed] " + s);
    }
}
