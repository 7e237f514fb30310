package io.xensnap.internal.config;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The configuration {@code io.xensnap} ({@code etc/io.xensnap.cfg}). Method names map to keys with {@code _} as
 * {@code .}: {@code state_dir()} is {@code state.dir}. {@link ConfigurationValidator} checks every value; a bad one
 * is refused ({@link SettingsGate}): xensnap keeps the previous valid configuration, or stays inactive if there was
 * none.
 */
@ObjectClassDefinition(name = "xensnap", description = "Where xensnap finds Xen, QEMU and qemu-img, where it keeps"
        + " its snapshot catalog, and how long it waits for each of them.")
@interface XensnapConfiguration {

    /** The configuration PID. */
    String PID = "io.xensnap";

    @AttributeDefinition(name = "Xen run directory", description = "libxl's run directory; the QMP socket of domain N"
            + " is <dir>/qmp-libxl-N. Absolute.")
    String xen_run_dir() default "/var/run/xen";

    @AttributeDefinition(name = "Xen lib directory", description = "libxl's XEN_LIB_DIR, where the stored domain"
            + " configs (userdata-d.*.libxl-json) live. Absolute.")
    String xen_lib_dir() default "/var/lib/xen";

    @AttributeDefinition(name = "xenstored socket", required = false, description = "Empty: found as libxenstore"
            + " does ($XENSTORED_PATH, $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket). Absolute otherwise.")
    String xenstored_socket() default "";

    @AttributeDefinition(name = "qemu-img", description = "The qemu-img program, absolute. xensnap runs it as root, so"
            + " it must be a regular executable file that only root can change: owned by root and not writable by group"
            + " or others, and so every directory above it (symlinks resolved).")
    String qemu_img() default "/usr/bin/qemu-img";

    @AttributeDefinition(name = "xl", required = false, description = "libxl's command line tool, absolute, for"
            + " domain snapshots (memory and disks): xensnap runs it as root to pause, save, restore and destroy a"
            + " domain, so it must be a program only root can change, as qemu-img. Empty: domain snapshots are refused"
            + " with UNSUPPORTED; disk snapshots work without it.")
    String xl_path() default "";

    @AttributeDefinition(name = "xl timeout (ms)", min = "1", description = "How long one xl run may take; a save"
            + " writes the domain's whole memory and is the longest.")
    long xl_timeout_ms() default 600_000;

    @AttributeDefinition(name = "State directory", description = "Where the snapshot catalog is kept, one JSON file per"
            + " domain. Outside Karaf's data directory on purpose: 'karaf clean' must not forget snapshots. Absolute;"
            + " created when needed.")
    String state_dir() default "/var/lib/xensnap";

    @AttributeDefinition(name = "Overlay roots", required = false, description = "Directories external snapshots may"
            + " create overlay files in (symlinks resolved). Comma-separated absolute paths; empty allows internal"
            + " snapshots only.")
    String[] overlay_roots() default {"/var/lib/xen/images"};

    @AttributeDefinition(name = "QMP connect timeout (ms)", min = "1")
    long qmp_connect_timeout_ms() default 2_000;

    @AttributeDefinition(name = "QMP greeting timeout (ms)", min = "1", description = "QEMU greets a second client"
            + " only after the first one left.")
    long qmp_greeting_timeout_ms() default 5_000;

    @AttributeDefinition(name = "QMP reply timeout (ms)", min = "1")
    long qmp_reply_timeout_ms() default 30_000;

    @AttributeDefinition(name = "Merge job timeout (ms)", min = "1", description = "How long one block-commit merge"
            + " of a running domain may take.")
    long job_timeout_ms() default 1_800_000;

    @AttributeDefinition(name = "Merge speed (bytes/s)", min = "0", description = "QEMU's speed limit for the"
            + " block-commit of a running domain's delete, in bytes a second, so that a merge leaves the host's disks"
            + " to the guests; 0: unlimited.")
    long merge_speed() default 0;

    @AttributeDefinition(name = "qemu-img timeout (ms)", min = "1", description = "How long one qemu-img run may"
            + " take; a commit of a large overlay is the longest.")
    long qemu_img_timeout_ms() default 1_800_000;

    @AttributeDefinition(name = "xenstore timeout (ms)", min = "1")
    long xenstore_timeout_ms() default 5_000;

    @AttributeDefinition(name = "libxl lock timeout (ms)", min = "1", description = "How long to wait for libxl or xl"
            + " to release one of a domain's locks (device-changes, qmp-socket, domain-userdata).")
    long libxl_lock_timeout_ms() default 10_000;

    @AttributeDefinition(name = "Domain busy wait (ms)", min = "1", description = "How long an operation waits for"
            + " another one on the same domain before it fails with BUSY.")
    long domain_busy_wait_ms() default 5_000;

    @AttributeDefinition(name = "Parallelism", min = "1", max = "64", description = "How many qemu-img runs one"
            + " revert may start at once.")
    int parallelism() default 4;

    @AttributeDefinition(name = "Longest backing chain", min = "2", max = "1000", description = "The most images"
            + " a disk's backing chain may hold after an external snapshot, the base and the new overlay included; a"
            + " create that would exceed it is refused with CHAIN_TOO_LONG.")
    int chain_max_length() default 30;

    @AttributeDefinition(name = "Free space floor (bytes)", min = "0", description = "An external snapshot is refused"
            + " with LOW_FREE_SPACE when the file system receiving its overlay has less free space than this. 0: no"
            + " floor.")
    long free_space_min_bytes() default 1_073_741_824L;

    @AttributeDefinition(name = "Free space floor (%)", min = "0", max = "99", description = "The same floor as a"
            + " share of that file system's size. 0: no floor.")
    int free_space_min_percent() default 5;

    @AttributeDefinition(name = "Internal snapshots per image", min = "1", max = "65536", description = "The most"
            + " internal snapshots one image may hold; a create beyond it is refused with TOO_MANY_SNAPSHOTS.")
    int internal_snapshots_max() default 100;

    @AttributeDefinition(name = "Quiesce", options = {
            @Option(label = "never", value = "never"), @Option(label = "try", value = "try"),
            @Option(label = "require", value = "require")}, description = "Whether a snapshot of a running domain"
            + " freezes the guest's file systems through its agent (qemu-ga on the libxl channel"
            + " org.qemu.guest_agent.0) for the snapshot's transaction, when the request does not say: never; try (the"
            + " guest is frozen when the domain has the channel and its agent answers, otherwise the snapshot is taken"
            + " without a freeze and a warning logged); require (a snapshot that cannot freeze the guest is refused).")
    String quiesce() default "try";

    @AttributeDefinition(name = "Quiesce step timeout (ms)", min = "1", description = "How long xensnap waits for"
            + " the guest agent at each step (connect, sync, freeze, thaw): an agent that does not answer in time makes"
            + " a 'try' snapshot go on without a freeze and a 'require' one fail.")
    long quiesce_timeout_ms() default 5_000;

    @AttributeDefinition(name = "Longest freeze (ms)", min = "1", description = "A watchdog thaws the guest this"
            + " long after the freeze was requested, whatever the snapshot is doing; a snapshot whose transaction had"
            + " not returned by then is recorded as not quiesced.")
    long quiesce_max_freeze_ms() default 10_000;

    @AttributeDefinition(name = "Sync before the freeze", description = "true: before freezing, the guest runs sync"
            + " through its agent's guest-exec (skipped when the agent refuses it), so the freeze, which the guest's"
            + " writers wait through, has little left to write. false: the freeze alone syncs.")
    boolean quiesce_presync() default true;

    @AttributeDefinition(name = "Domain view", description = "true: running domains are kept between requests,"
            + " over one xenstore connection that watches their nodes, and each request checks its domain with one"
            + " read. false: every request reads its domain from xenstore on a connection of its own.")
    boolean xenstore_domain_view() default true;

    @AttributeDefinition(name = "Sockets of any owner", description = "false: the QMP and xenstored sockets must be"
            + " owned by root, since xensnap acts on what they say. true: trust sockets of any owner, for peers run"
            + " under another user.")
    boolean sockets_any_owner() default false;
}
