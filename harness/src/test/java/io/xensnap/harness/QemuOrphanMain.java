package io.xensnap.harness;

/**
 * Run in a child JVM by {@link RealQemuTest}: starts a QEMU, reports its pid and directory, then waits to be killed.
 * The sleep is bounded so a parent that forgets to kill this JVM does not leave it running for long.
 */
public final class QemuOrphanMain {

    private QemuOrphanMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        RealQemu qemu = RealQemu.builder(RealQemu.Profile.PLAIN).start();
        System.out.println("qemu-pid " + qemu.pid() + " socket " + qemu.qmpSocket());
        System.out.flush();
        Thread.sleep(60_000);
        qemu.close();
    }
}
