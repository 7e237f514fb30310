package io.xensnap.internal.config;

import java.lang.annotation.Annotation;

/**
 * A {@link XensnapConfiguration} with the defaults, each value replaceable, built with {@code new} as SCR would hand
 * it over. A value set to {@link #UNREADABLE} throws from its getter, as SCR's proxy does when a configured text does
 * not convert to the attribute's type.
 */
final class TestConfiguration implements XensnapConfiguration {

    static final String UNREADABLE = "\0unreadable";

    String xenRunDir = "/var/run/xen";
    String xenLibDir = "/var/lib/xen";
    String xenstoredSocket = "";
    String qemuImg = "/usr/bin/qemu-img";
    String xl = "";
    Object xlTimeout = 600_000L;
    String stateDir = "/var/lib/xensnap";
    String[] overlayRoots = {"/var/lib/xen/images"};
    Object qmpConnect = 2_000L;
    Object qmpGreeting = 5_000L;
    Object qmpReply = 30_000L;
    Object job = 1_800_000L;
    Object mergeSpeed = 0L;
    Object qemuImgTimeout = 1_800_000L;
    Object xenstore = 5_000L;
    Object libxlLock = 10_000L;
    Object busy = 5_000L;
    Object parallelism = 4;
    Object socketsAnyOwner = false;
    Object domainView = true;
    Object chainMaxLength = 30;
    Object freeSpaceMinBytes = 1_073_741_824L;
    Object freeSpaceMinPercent = 5;
    Object internalSnapshotsMax = 100;
    String quiesce = "try";
    Object quiesceTimeout = 5_000L;
    Object quiesceMaxFreeze = 10_000L;
    boolean quiescePresync = true;

    @Override
    public Class<? extends Annotation> annotationType() {
        return XensnapConfiguration.class;
    }

    @Override
    public String xen_run_dir() {
        return text(xenRunDir);
    }

    @Override
    public String xen_lib_dir() {
        return text(xenLibDir);
    }

    @Override
    public String xenstored_socket() {
        return text(xenstoredSocket);
    }

    @Override
    public String qemu_img() {
        return text(qemuImg);
    }

    @Override
    public String state_dir() {
        return text(stateDir);
    }

    @Override
    public String[] overlay_roots() {
        return overlayRoots;
    }

    @Override
    public long qmp_connect_timeout_ms() {
        return number(qmpConnect);
    }

    @Override
    public long qmp_greeting_timeout_ms() {
        return number(qmpGreeting);
    }

    @Override
    public long qmp_reply_timeout_ms() {
        return number(qmpReply);
    }

    @Override
    public long job_timeout_ms() {
        return number(job);
    }

    @Override
    public String quiesce() {
        return text(quiesce);
    }

    @Override
    public long quiesce_timeout_ms() {
        return number(quiesceTimeout);
    }

    @Override
    public long quiesce_max_freeze_ms() {
        return number(quiesceMaxFreeze);
    }

    @Override
    public boolean quiesce_presync() {
        return quiescePresync;
    }

    @Override
    public long merge_speed() {
        return number(mergeSpeed);
    }

    @Override
    public String xl_path() {
        return text(xl);
    }

    @Override
    public long xl_timeout_ms() {
        return number(xlTimeout);
    }

    @Override
    public long qemu_img_timeout_ms() {
        return number(qemuImgTimeout);
    }

    @Override
    public long xenstore_timeout_ms() {
        return number(xenstore);
    }

    @Override
    public long libxl_lock_timeout_ms() {
        return number(libxlLock);
    }

    @Override
    public long domain_busy_wait_ms() {
        return number(busy);
    }

    @Override
    public int parallelism() {
        return (int) number(parallelism);
    }

    @Override
    public int chain_max_length() {
        return (int) number(chainMaxLength);
    }

    @Override
    public long free_space_min_bytes() {
        return number(freeSpaceMinBytes);
    }

    @Override
    public int free_space_min_percent() {
        return (int) number(freeSpaceMinPercent);
    }

    @Override
    public int internal_snapshots_max() {
        return (int) number(internalSnapshotsMax);
    }

    @Override
    public boolean sockets_any_owner() {
        if (socketsAnyOwner instanceof Boolean b) {
            return b;
        }
        // what SCR's proxy does with text that is no boolean
        throw new IllegalArgumentException("cannot convert " + socketsAnyOwner + " to boolean");
    }

    @Override
    public boolean xenstore_domain_view() {
        if (domainView instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("cannot convert " + domainView + " to boolean");
    }

    private static String text(String v) {
        if (UNREADABLE.equals(v)) {
            throw new IllegalArgumentException("cannot convert");
        }
        return v;
    }

    private static long number(Object v) {
        if (v instanceof Number n) {
            return n.longValue();
        }
        // what SCR's proxy does with text that is no number
        return Long.parseLong(String.valueOf(v));
    }
}
