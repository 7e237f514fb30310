package io.xensnap.acceptance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.xensnap.harness.XenBed;

/**
 * The acceptance suite's PV guest and what it says about its own disks. Its init ({@code guest-init} beside this
 * class) writes numbered records to every disk about every two seconds and, at each boot, reports the highest record
 * it finds on each disk; xenconsoled keeps its console in a file in dom0, which is how the suite hears it.
 */
final class Guest {

    static final String KERNEL = "/var/lib/xenbed/domu/vmlinuz";
    static final String INITRD = "/images/guest-initrd.gz";
    private static final Pattern WROTE = Pattern.compile("^GUEST wrote (\\d+)$", Pattern.MULTILINE);
    /**
     * Between two looks at the console while waiting for the guest: a wait that polls once a second loses half a
     * second on average, dozens of times a run; each look is one {@code cat} started in dom0 through the bed's agent,
     * which costs the emulated dom0 CPU time, so not much more often than this.
     */
    static final long POLL_MS = 500;

    private final XenBed bed;
    private final String name;
    private final String uuid;
    private final String type;
    private final String initrd;
    private final int memoryMiB;

    /**
     * The memory of the suite's PV guest: every {@code xl save}, {@code xl restore} and {@code xl destroy} handles
     * all of it. The least it boots with some room: Debian's kernel needs more than 64 MiB to be built at all
     * (docs/xenbed.md, pitfalls), and with 80 MiB it ran out of memory unpacking its initramfs.
     */
    static final int PV_MEMORY_MIB = 96;
    /** the memory of the other guests (PVH, the agent guest), not measured with less */
    static final int MEMORY_MIB = 128;

    /**
     * The suite's PV guest, of {@link #PV_MEMORY_MIB}.
     *
     * @param uuid the domain's uuid in its xl config: xl would give every {@code xl create} a new one, and xensnap
     *             keeps a domain's snapshots by uuid, so a domain started again after a revert must keep it
     */
    Guest(XenBed bed, String name, String uuid) {
        this(bed, name, uuid, "pv", INITRD, PV_MEMORY_MIB);
    }

    /**
     * @param type xl's {@code type}: {@code pv}, or {@code pvh} (the same kernel boots through its PVH entry point;
     *             the bed's CPU offers the hardware paging that needs)
     */
    Guest(XenBed bed, String name, String uuid, String type) {
        this(bed, name, uuid, type, INITRD);
    }

    /** @param initrd the guest's initramfs in dom0, when it is not the suite's own (e.g. one with a guest agent) */
    Guest(XenBed bed, String name, String uuid, String type, String initrd) {
        this(bed, name, uuid, type, initrd, MEMORY_MIB);
    }

    /** @param memoryMiB xl's {@code memory} */
    private Guest(XenBed bed, String name, String uuid, String type, String initrd, int memoryMiB) {
        this.bed = bed;
        this.name = name;
        this.uuid = uuid;
        this.type = type;
        this.initrd = initrd;
        this.memoryMiB = memoryMiB;
    }

    /**
     * Makes the guest's initramfs in dom0: the bed's own guest initramfs (busybox, the block frontend) with this
     * suite's init instead of the bed's.
     */
    static void prepareInitramfs(XenBed bed) {
        try (InputStream init = Guest.class.getResourceAsStream("guest-init")) {
            bed.put(init.readAllBytes(), "/root/guest/init", "0755");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Acceptance.sh(bed, Acceptance.minutes(2), "set -e; mkdir -p /images /root/guest/tree; cd /root/guest/tree;"
                + " zcat /var/lib/xenbed/domu/initrd.gz | cpio -id --quiet; cp /root/guest/init init;"
                + " find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 >" + INITRD);
    }

    String name() {
        return name;
    }

    /** Writes the xl config of this guest on {@code disks} (xl disk specs) and returns its path. */
    String writeConfig(List<String> disks, List<String> vdevs) {
        return writeConfig(disks, vdevs, List.of());
    }

    /** @param more further lines of xl config, e.g. {@code channel = [ ... ]} */
    String writeConfig(List<String> disks, List<String> vdevs, List<String> more) {
        String path = "/etc/xen/" + name + ".cfg";
        List<String> quoted = new ArrayList<>();
        disks.forEach(d -> quoted.add("\"" + d + "\""));
        bed.put(String.join("\n",
                "name = \"" + name + "\"",
                "uuid = \"" + uuid + "\"",
                "type = \"" + type + "\"",
                "kernel = \"" + KERNEL + "\"",
                "ramdisk = \"" + initrd + "\"",
                "extra = \"console=hvc0 quiet disks=" + String.join(",", vdevs) + "\"",
                "memory = " + memoryMiB,
                "vcpus = 1",
                "on_crash = \"destroy\"",
                "on_reboot = \"restart\"",
                "disk = [ " + String.join(", ", quoted) + " ]",
                String.join("\n", more),
                "").getBytes(StandardCharsets.UTF_8), path, "0644");
        return path;
    }

    /**
     * {@code xl create}, once more when libxl gave up waiting for the device model: libxl waits a fixed time for QEMU to
     * start, which a loaded 2-core host running Xen under TCG can exceed; xl destroy clears what such a try
     * left.
     */
    void create(String config) {
        XenBed.Result r = bed.run(Acceptance.minutes(4), "xl", "create", config);
        if (r.exitCode() != 0 && r.stderr().contains("device model did not start")) {
            Acceptance.log("xl create " + name + " timed out on its device model, once more:\n" + r.stderr());
            bed.run(Acceptance.minutes(2), "xl", "destroy", name);
            r = bed.run(Acceptance.minutes(4), "xl", "create", config);
        }
        r.orThrow();
    }

    /**
     * {@code xl pause}: a guest started for a later class ({@code Dom0Host.early}) waits paused, so that it costs the
     * emulated host no CPU while the classes before its own run (a guest that writes or logs every second or two took
     * 5-10 % of a CPU of the bed).
     */
    void pause() {
        bed.run(Acceptance.minutes(1), "xl", "pause", name).orThrow();
    }

    /** {@code xl unpause}: the guest goes on where it was paused. */
    void unpause() {
        bed.run(Acceptance.minutes(1), "xl", "unpause", name).orThrow();
    }

    /** Waits until the guest's console holds {@code text}, e.g. its init's {@code GUEST READY}. */
    void awaitSaid(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!console().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("guest " + name + " did not say '" + text + "' within " + timeout
                        + "; its console:\n" + console());
            }
            Acceptance.sleep(POLL_MS);
        }
    }

    /** Ends the guest when its class is done with the shared host: {@code xl destroy}, if the domain is there. */
    void destroy() {
        if (bed.isAlive()) {
            bed.run(Acceptance.minutes(2), "xl", "destroy", name);
        }
    }

    int domid() {
        return Integer.parseInt(bed.run(Acceptance.minutes(1), "xl", "domid", name).orThrow().stdout().strip());
    }

    String uuid() {
        return uuid;
    }

    /** Everything the guest has said on its console, every boot of it. */
    String console() {
        return bed.run(Acceptance.minutes(1), "cat", "/var/log/xen/console/guest-" + name + ".log").stdout();
    }

    /** What the guest said since its {@code boot}-th boot (1 = the first). */
    String boot(int boot) {
        String all = console();
        int at = -1;
        for (int i = 0; i < boot; i++) {
            at = all.indexOf("GUEST BOOT", at + 1);
            if (at < 0) {
                return "";
            }
        }
        return all.substring(at);
    }

    /** Waits until the guest's {@code boot}-th boot has reported its disks and is writing. */
    String awaitReady(int boot, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String text = boot(boot);
            if (text.contains("GUEST READY") && WROTE.matcher(text).find()) {
                return text;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("guest " + name + " boot " + boot + " not ready within " + timeout
                        + "; its console:\n" + console());
            }
            Acceptance.sleep(POLL_MS);
        }
    }

    /** The highest record the guest reported as written, if any. */
    OptionalLong lastWritten() {
        Matcher m = WROTE.matcher(console());
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last < 0 ? OptionalLong.empty() : OptionalLong.of(last);
    }

    /** Waits until the guest reports record {@code n} or a later one as written. */
    long awaitWritten(long n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            OptionalLong last = lastWritten();
            if (last.isPresent() && last.getAsLong() >= n) {
                return last.getAsLong();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("guest " + name + " did not write record " + n + " within "
                        + timeout + "; its console:\n" + console());
            }
            Acceptance.sleep(POLL_MS);
        }
    }

    /** The highest record the guest found on {@code vdev} at its {@code boot}-th boot. */
    long found(int boot, String vdev) {
        Matcher m = Pattern.compile("^GUEST " + vdev + " found (\\d+)$", Pattern.MULTILINE).matcher(boot(boot));
        if (!m.find()) {
            throw new IllegalStateException("boot " + boot + " of " + name + " reported nothing for " + vdev
                    + ":\n" + console());
        }
        return Long.parseLong(m.group(1));
    }

    /** Byte offset of record {@code n} on a disk (see guest-init). */
    static long recordOffset(long n) {
        return (256 + n % 256) * 4096L;
    }

}
