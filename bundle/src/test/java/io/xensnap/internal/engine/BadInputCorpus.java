package io.xensnap.internal.engine;

import static io.xensnap.api.SnapshotError.CHAIN_TOO_LONG;
import static io.xensnap.api.SnapshotError.INVALID_ARGUMENT;
import static io.xensnap.api.SnapshotError.INVALID_STATE;
import static io.xensnap.api.SnapshotError.NO_SUCH_DISK;
import static io.xensnap.api.SnapshotError.NO_SUCH_DOMAIN;
import static io.xensnap.api.SnapshotError.NO_SUCH_SNAPSHOT;
import static io.xensnap.api.SnapshotError.SNAPSHOT_EXISTS;
import static io.xensnap.api.SnapshotError.TOO_MANY_SNAPSHOTS;
import static io.xensnap.api.SnapshotError.UNSUPPORTED;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.QuiescePolicy;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.Devid;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.internal.catalog.CatalogStore;
import io.xensnap.internal.catalog.DomainCatalog;
import io.xensnap.internal.catalog.PendingOperation;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.surface.UserInput;

/**
 * Bad input, as a surface receives it: strings. One table for every surface: the service test runs it through
 * {@link UserInput} and the engine; the MBean and console tests run the same cases through their own entry points and
 * must give the same codes. Every case must fail with its code and change nothing.
 *
 * <p>Values in the table may contain placeholders, replaced per dom0 by {@link #prepare(Dom0)}: {@code ${vm7}} (domain
 * 7's image directory, inside the overlay roots), {@code ${outside}} (a directory outside the roots), {@code ${state}},
 * {@code ${libxl}}, {@code ${uuid7}} (running domain 7), {@code ${uuid12}} (a shut-off domain with an unfinished
 * create in its catalog).
 */
public final class BadInputCorpus {

    /** What a case asks for. */
    public enum Op { CREATE, CREATE_WITH_MEMORY, REVERT, REVERT_AND_RESTART, DELETE, GET, LIST }

    /** One disk of a create request, as four strings (each may be {@code null}). */
    public record Disk(String vdev, String kind, String overlay, String format) {
    }

    /**
     * @param id       a stable, unique name for the case
     * @param op       the operation
     * @param domain   the domain as typed (domid or uuid)
     * @param name     the snapshot name as typed
     * @param description create only
     * @param disks    create only; empty means every disk with the defaults
     * @param expected the code the case must give
     * @param quiesce  create only: the quiesce policy as typed; null when not given
     */
    public record Case(String id, Op op, String domain, String name, String description, List<Disk> disks,
                       SnapshotError expected, String quiesce) {
        public Case(String id, Op op, String domain, String name, String description, List<Disk> disks,
                    SnapshotError expected) {
            this(id, op, domain, name, description, disks, expected, null);
        }

        public Case {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(op, "op");
            Objects.requireNonNull(expected, "expected");
            disks = List.copyOf(disks);
        }

        /** @return this case with the placeholders of {@code vars} replaced */
        public Case resolved(Map<String, String> vars) {
            List<Disk> ds = new ArrayList<>();
            for (Disk d : disks) {
                ds.add(new Disk(sub(d.vdev(), vars), sub(d.kind(), vars), sub(d.overlay(), vars), sub(d.format(), vars)));
            }
            return new Case(id, op, sub(domain, vars), sub(name, vars), sub(description, vars), ds, expected,
                    quiesce);
        }

        @Override
        public String toString() {
            return id;
        }
    }

    private static final String LONG = "a".repeat(10_000);

    /** Nothing typed for a disk: an empty item of the surfaces' disk spec. */
    private static final Disk NO_DISK = new Disk(null, null, null, null);

    /** The table. */
    public static final List<Case> CASES = List.of(
            // snapshot names
            create("name-empty", "7", "", INVALID_ARGUMENT),
            create("name-null", "7", null, INVALID_ARGUMENT),
            create("name-dotdot", "7", "..", INVALID_ARGUMENT),
            create("name-traversal", "7", "../../etc/passwd", INVALID_ARGUMENT),
            create("name-slash", "7", "a/b", INVALID_ARGUMENT),
            create("name-comma", "7", "a,b", INVALID_ARGUMENT),
            create("name-colon", "7", "a:b", INVALID_ARGUMENT),
            create("name-equals", "7", "a=b", INVALID_ARGUMENT),
            create("name-newline", "7", "a\nb", INVALID_ARGUMENT),
            create("name-carriage-return", "7", "a\rb", INVALID_ARGUMENT),
            create("name-tab", "7", "a\tb", INVALID_ARGUMENT),
            create("name-nul", "7", "a\0b", INVALID_ARGUMENT),
            create("name-10000-chars", "7", LONG, INVALID_ARGUMENT),
            create("name-65-chars", "7", "a".repeat(65), INVALID_ARGUMENT),
            create("name-all-digits", "7", "123", INVALID_ARGUMENT),
            create("name-leading-dot", "7", ".hidden", INVALID_ARGUMENT),
            create("name-leading-dash", "7", "-rf", INVALID_ARGUMENT),
            create("name-space", "7", "a b", INVALID_ARGUMENT),
            create("name-command-substitution", "7", "$(reboot)", INVALID_ARGUMENT),
            create("name-semicolon", "7", "s;rm -rf /", INVALID_ARGUMENT),
            create("name-quote", "7", "it's", INVALID_ARGUMENT),
            create("name-non-ascii", "7", "snäp", INVALID_ARGUMENT),
            create("name-duplicate", "7", "s1", SNAPSHOT_EXISTS),
            create("name-taken-inside-the-image", "7", "made-outside", SNAPSHOT_EXISTS, internal("xvdb")),
            new Case("description-1025-chars", Op.CREATE, "7", "ok1", "d".repeat(1025), List.of(), INVALID_ARGUMENT),
            // shown on terminals and in JMX clients, where these would act instead of being read
            new Case("description-escape-sequence", Op.CREATE, "7", "ok1", "a\u001b[2J\u001b]0;owned\u0007", List.of(),
                    INVALID_ARGUMENT),
            new Case("description-bidi-override", Op.CREATE, "7", "ok1", "before \u202eedargpu", List.of(),
                    INVALID_ARGUMENT),
            new Case("description-newline", Op.CREATE, "7", "ok1", "one\n7 [REPAIRED] forged", List.of(),
                    INVALID_ARGUMENT),
            // quiesce policies: a word the surfaces do not know, and require on a domain without an agent channel
            quiesce("quiesce-unknown-word", "sometimes", INVALID_ARGUMENT),
            quiesce("quiesce-two-words", "try require", INVALID_ARGUMENT),
            quiesce("quiesce-newline", "try\nrequire", INVALID_ARGUMENT),
            quiesce("quiesce-nul", "try\0", INVALID_ARGUMENT),
            quiesce("quiesce-require-without-agent-channel", "require", UNSUPPORTED),
            // domains
            create("domain-empty", "", "ok1", INVALID_ARGUMENT),
            create("domain-null", null, "ok1", INVALID_ARGUMENT),
            create("domain-word", "abc", "ok1", INVALID_ARGUMENT),
            create("domain-zero", "0", "ok1", INVALID_ARGUMENT),
            create("domain-negative", "-1", "ok1", INVALID_ARGUMENT),
            create("domain-reserved", "32752", "ok1", INVALID_ARGUMENT),
            create("domain-99999", "99999", "ok1", INVALID_ARGUMENT),
            create("domain-10000-chars", "1".repeat(10_000), "ok1", INVALID_ARGUMENT),
            create("domain-traversal", "../../etc", "ok1", INVALID_ARGUMENT),
            create("domain-nul", "7\0", "ok1", INVALID_ARGUMENT),
            create("domain-newline", "7\n", "ok1", INVALID_ARGUMENT),
            create("domain-two", "7;8", "ok1", INVALID_ARGUMENT),
            create("domain-leading-zeros", "00007", "ok1", INVALID_ARGUMENT),
            create("domain-short-uuid", "6f1e4a52-0d3b-4c8e-9a1f", "ok1", INVALID_ARGUMENT),
            create("domain-unknown-domid", "99", "ok1", NO_SUCH_DOMAIN),
            create("domain-unknown-uuid", "00000000-0000-4000-8000-000000000000", "ok1", NO_SUCH_DOMAIN),
            create("domain-running-named-by-uuid", "${UUID7}", "ok1", INVALID_STATE),
            // virtual devices
            create("vdev-unknown", "7", "ok1", NO_SUCH_DISK, internal("xvdz")),
            create("vdev-device-number", "7", "ok1", NO_SUCH_DISK, internal(Integer.toString(Devid.XVDA))),
            create("vdev-traversal", "7", "ok1", INVALID_ARGUMENT, internal("../xvda")),
            create("vdev-comma", "7", "ok1", INVALID_ARGUMENT, internal("xvda,xvdb")),
            create("vdev-uppercase", "7", "ok1", INVALID_ARGUMENT, internal("XVDA")),
            create("vdev-empty", "7", "ok1", INVALID_ARGUMENT, internal("")),
            create("vdev-null", "7", "ok1", INVALID_ARGUMENT, internal(null)),
            create("vdev-newline", "7", "ok1", INVALID_ARGUMENT, internal("xvda\n")),
            create("vdev-10000-chars", "7", "ok1", INVALID_ARGUMENT, internal("x" + LONG)),
            create("vdev-given-twice", "7", "ok1", INVALID_ARGUMENT, internal("xvda"), internal("xvda")),
            // at the surfaces: the disk spec ",,," (four empty items), not "every disk"
            create("disk-spec-empty-items", "7", "ok1", INVALID_ARGUMENT, NO_DISK, NO_DISK, NO_DISK, NO_DISK),
            // kinds and formats
            create("kind-unknown", "7", "ok1", INVALID_ARGUMENT, new Disk("xvda", "snapshot", null, null)),
            create("kind-empty", "7", "ok1", INVALID_ARGUMENT, new Disk("xvda", "", null, null)),
            create("kind-null", "7", "ok1", INVALID_ARGUMENT, new Disk("xvda", null, null, null)),
            create("raw-asked-for-internal", "9", "ok1", UNSUPPORTED, internal("xvdc")),
            create("raw-asked-for-internal-on-disk-3-of-3", "9", "ok1", UNSUPPORTED, internal("xvda"),
                    internal("xvdb"), internal("xvdc")),
            create("internal-with-an-overlay-path", "7", "ok1", INVALID_ARGUMENT,
                    new Disk("xvda", "internal", "${vm7}/x.qcow2", null)),
            create("internal-with-a-format", "7", "ok1", INVALID_ARGUMENT, new Disk("xvda", "internal", null, "qcow2")),
            create("overlay-format-vmdk", "7", "ok1", INVALID_ARGUMENT, new Disk("xvdc", "external", null, "vmdk")),
            create("overlay-format-raw", "7", "ok1", UNSUPPORTED, new Disk("xvdc", "external", null, "raw")),
            create("disk-format-vhd", "11", "ok1", UNSUPPORTED, external("xvdb", null)),
            create("disk-format-vhd-by-default", "11", "ok1", UNSUPPORTED),
            create("disk-read-only", "11", "ok1", UNSUPPORTED, internal("xvda")),
            create("phy-disk-internal", "9", "ok1", UNSUPPORTED, internal("xvdd")),
            create("phy-disk-external", "9", "ok1", UNSUPPORTED, external("xvdd", null)),
            create("phy-disk-by-default", "9", "ok1", UNSUPPORTED),
            // overlay paths
            // at the surfaces: "xvdc:external:", not the default path
            create("path-empty", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "")),
            create("path-relative", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "ov.qcow2")),
            create("path-tilde", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "~/ov.qcow2")),
            create("path-dotdot", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/../vm7/x.qcow2")),
            create("path-dot", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/./x.qcow2")),
            create("path-nul", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/a\0.qcow2")),
            create("path-newline", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/a\n.qcow2")),
            create("path-tab", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/a\tb.qcow2")),
            create("path-escape", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/a\u001b[2J.qcow2")),
            create("path-comma", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/a,b.qcow2")),
            create("path-10000-chars", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/" + LONG)),
            create("path-8-nested-250-char-dirs", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/"
                    + String.join("/", java.util.Collections.nCopies(8, "d".repeat(250))) + "/o.qcow2")),
            create("path-1024-bytes", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/"
                    + String.join("/", java.util.Collections.nCopies(5, "d".repeat(200))) + "/o.qcow2")),
            create("path-300-char-file-name", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/" + "f".repeat(294) + ".qcow2")),
            create("path-file-name-256-utf8-bytes", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/" + "\u00e9".repeat(125) + ".qcow2")),
            create("path-set-aside-suffix", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/O.qcow2.xensnap-old")),
            create("path-set-aside-name-taken", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/aside.qcow2")),
            create("path-in-a-directory-others-can-write", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/open/x.qcow2")),
            create("path-in-a-directory-of-nobodys", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/nobodys/x.qcow2")),
            create("name-reserved-prefix", "7", "xensnap-undo-1", INVALID_ARGUMENT),
            create("path-outside-the-roots", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${outside}/x.qcow2")),
            create("path-in-tmp", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "/tmp/xensnap-corpus.qcow2")),
            create("path-in-proc", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "/proc/self/x.qcow2")),
            create("path-in-the-state-dir", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${state}/x.qcow2")),
            create("path-in-the-libxl-dir", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${libxl}/userdata-x")),
            create("path-directory-missing", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/nodir/x.qcow2")),
            create("path-through-a-symlink-out", "7", "ok1", INVALID_ARGUMENT,
                    external("xvdc", "${vm7}/link-out/x.qcow2")),
            create("path-root", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "/")),
            create("path-exists", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "${vm7}/taken.qcow2")),
            create("path-dangling-symlink", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "${vm7}/dangling.qcow2")),
            create("path-symlink-to-an-image", "7", "ok1", SNAPSHOT_EXISTS,
                    external("xvdc", "${vm7}/link-to-disk0.qcow2")),
            create("path-another-disks-image", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "${vm7}/disk0.qcow2")),
            create("path-a-frozen-image", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "${vm7}/disk2.raw")),
            create("path-the-disks-own-image", "7", "ok1", INVALID_ARGUMENT, external("xvdc", "${vm7}/disk2.s1.qcow2")),
            create("path-a-directory", "7", "ok1", SNAPSHOT_EXISTS, external("xvdc", "${vm7}")),
            create("path-same-for-two-disks", "7", "ok1", INVALID_ARGUMENT, external("xvda", "${vm7}/same.qcow2"),
                    external("xvdb", "${vm7}/same.qcow2")),
            // the guards of create, at their default limits (domain 13: a chain at the limit, an image full of
            // internal snapshots)
            create("chain-at-its-longest", "13", "ok1", CHAIN_TOO_LONG, external("xvda", null)),
            create("chain-at-its-longest-after-a-good-disk", "13", "ok1", CHAIN_TOO_LONG, external("xvdb", null),
                    external("xvda", "${vm13}/other.qcow2")),
            create("internal-snapshots-at-the-limit", "13", "ok1", TOO_MANY_SNAPSHOTS, internal("xvdb")),
            create("internal-snapshots-at-the-limit-by-default", "13", "ok1", TOO_MANY_SNAPSHOTS),
            // revert, delete, get, list
            on(Op.REVERT, "revert-running", "7", "s1", INVALID_STATE),
            on(Op.REVERT, "revert-running-named-by-uuid", "${UUID7}", "s1", INVALID_STATE),
            on(Op.REVERT, "revert-unknown-snapshot", "${uuid12}", "nope", NO_SUCH_SNAPSHOT),
            on(Op.REVERT, "revert-name-traversal", "${uuid12}", "../old", INVALID_ARGUMENT),
            on(Op.REVERT, "revert-with-an-unfinished-create", "${uuid12}", "old", INVALID_STATE),
            on(Op.REVERT_AND_RESTART, "restart-unknown-snapshot", "${uuid12}", "nope", NO_SUCH_SNAPSHOT),
            on(Op.REVERT_AND_RESTART, "restart-name-traversal", "7", "../s1", INVALID_ARGUMENT),
            on(Op.REVERT_AND_RESTART, "restart-with-an-unfinished-create", "${uuid12}", "old", INVALID_STATE),
            on(Op.REVERT_AND_RESTART, "restart-without-xl-configured", "7", "s1", UNSUPPORTED),
            on(Op.DELETE, "delete-unknown-snapshot", "7", "nope", NO_SUCH_SNAPSHOT),
            on(Op.DELETE, "delete-name-nul", "7", "s1\0", INVALID_ARGUMENT),
            on(Op.DELETE, "delete-name-null", "7", null, INVALID_ARGUMENT),
            on(Op.DELETE, "delete-a-snapshot-another-depends-on", "7", "s1", INVALID_STATE),
            on(Op.DELETE, "delete-with-an-unfinished-create", "${uuid12}", "old", INVALID_STATE),
            on(Op.DELETE, "delete-unknown-domain", "99", "s1", NO_SUCH_DOMAIN),
            on(Op.GET, "get-10000-chars", "7", LONG, INVALID_ARGUMENT),
            on(Op.GET, "get-unknown-snapshot", "7", "nope", NO_SUCH_SNAPSHOT),
            on(Op.LIST, "list-unknown-domid", "99", null, NO_SUCH_DOMAIN),
            on(Op.LIST, "list-bad-domain", "x;y", null, INVALID_ARGUMENT),
            create("create-with-an-unfinished-create", "${uuid12}", "new2", INVALID_STATE),
            // snapshots with memory: a running domain, every writable disk, each one a disk a snapshot can take; and
            // xl configured
            withMemory("memory-of-a-shut-off-domain", "${uuid12}", INVALID_STATE),
            withMemory("memory-leaving-a-disk-out", "7", INVALID_ARGUMENT, internal("xvda")),
            // a phy disk is taken with memory only, externally, on an overlay in the roots: by default it would go
            // beside the device, in /dev
            withMemory("memory-with-a-phy-disk-by-default", "9", INVALID_ARGUMENT),
            withMemory("memory-with-a-phy-disk-internal", "9", UNSUPPORTED, internal("xvda"), internal("xvdb"),
                    external("xvdc", null), internal("xvdd")),
            withMemory("memory-with-a-phy-disk-without-xl-configured", "9", UNSUPPORTED, internal("xvda"),
                    internal("xvdb"), external("xvdc", null), external("xvdd", "${vm9}/data.mem1.qcow2")),
            withMemory("memory-without-xl-configured", "7", UNSUPPORTED),
            withMemory("memory-with-a-bad-name", "7", INVALID_ARGUMENT, "a/b"));

    private BadInputCorpus() {
    }

    private static Case create(String id, String domain, String name, SnapshotError expected, Disk... disks) {
        return new Case(id, Op.CREATE, domain, name, "", Arrays.asList(disks), expected);
    }

    private static Case withMemory(String id, String domain, SnapshotError expected, Disk... disks) {
        return withMemory(id, domain, expected, "mem1", disks);
    }

    private static Case withMemory(String id, String domain, SnapshotError expected, String name, Disk... disks) {
        return new Case(id, Op.CREATE_WITH_MEMORY, domain, name, "", Arrays.asList(disks), expected);
    }

    private static Case quiesce(String id, String quiesce, SnapshotError expected) {
        return new Case(id, Op.CREATE, "7", "ok1", "", List.of(), expected, quiesce);
    }

    private static Case on(Op op, String id, String domain, String name, SnapshotError expected) {
        return new Case(id, op, domain, name, null, List.of(), expected);
    }

    private static Disk internal(String vdev) {
        return new Disk(vdev, "internal", null, null);
    }

    private static Disk external(String vdev, String overlay) {
        return new Disk(vdev, "external", overlay, null);
    }

    private static String sub(String s, Map<String, String> vars) {
        if (s == null) {
            return null;
        }
        String out = s;
        for (Map.Entry<String, String> v : vars.entrySet()) {
            out = out.replace("${" + v.getKey() + "}", v.getValue());
        }
        return out;
    }

    /**
     * Lays out the dom0 the table assumes and returns the placeholder values:
     * <ul>
     *   <li>domain 7 (QEMU; xvda, xvdb qcow2, xvdc raw) with snapshots s1 (every disk: xvdc gets the overlay
     *       {@code disk2.s1.qcow2}) and s2 (every disk, internal in that overlay, so s1 cannot be deleted), and an
     *       internal snapshot {@code made-outside} on xvdb that xensnap did not make;</li>
     *   <li>domain 9 (QEMU; xvdc still raw) with a phy disk xvdd;</li>
     *   <li>domain 11 (no QEMU: refused before one would be asked) with a read-only xvda and a vhd xvdb;</li>
     *   <li>domain 13 (QEMU on images made here) whose xvda's chain holds as many images as
     *       {@code chain.max.length} allows by default, and whose xvdb holds as many internal snapshots as
     *       {@code internal.snapshots.max} allows by default;</li>
     *   <li>a shut-off domain 12 whose catalog has snapshot {@code old} and an unfinished create;</li>
     *   <li>files and links in domain 7's directory: {@code taken.qcow2}, {@code dangling.qcow2},
     *       {@code link-to-disk0.qcow2}, {@code link-out} (to a directory outside the roots),
 *       {@code aside.qcow2.xensnap-old} (so that {@code aside.qcow2} could never be set aside by a revert),
 *       directories {@code open} (mode 0777) and {@code nobodys} (owned by uid 65534).</li>
     * </ul>
     */
    public static Map<String, String> prepare(Dom0 dom0) throws Exception {
        dom0.domain(7);
        dom0.domain(9, List.of(XenHost.Disk.of("xvdd", XenHost.Backend.PHY, XenHost.Format.RAW,
                Path.of("/dev/vg0/vm9-data"))));
        Path vm11 = Files.createDirectories(dom0.images.resolve("vm11"));
        dom0.host.addDomain(new XenHost.Domain(11, "vm11", Dom0.uuid(11), List.of(
                new XenHost.Disk("xvda", XenHost.Backend.QDISK, XenHost.Format.QCOW2, vm11.resolve("ro.qcow2"), false),
                XenHost.Disk.of("xvdb", XenHost.Backend.QDISK, XenHost.Format.QCOW2, vm11.resolve("d.vhd")))));
        String vhd = "vhd:" + vm11.resolve("d.vhd");
        dom0.host.cli().write("/local/domain/0/backend/qdisk/11/" + Devid.XVDB + "/params", vhd,
                "/libxl/11/device/vbd/" + Devid.XVDB + "/params", vhd);

        SnapshotEngine engine = dom0.engine();
        DomainRef dom7 = DomainRef.running(7);
        engine.create(SnapshotRequest.allDisks(dom7, "s1", ""));
        engine.create(SnapshotRequest.allDisks(dom7, "s2", ""));
        String node = dom0.device(7, "xvdb").path("inserted").path("node-name").asText();
        RawQmp.execute(dom0.host.qmpSocketPath(7), Duration.ofSeconds(5), "{\"execute\":"
                + "\"blockdev-snapshot-internal-sync\",\"arguments\":{\"device\":\"" + node
                + "\",\"name\":\"made-outside\"}}");

        Path vm7 = dom0.images.resolve("vm7");
        Path outside = Files.createDirectories(dom0.host.root().resolve("outside"));
        Files.writeString(vm7.resolve("taken.qcow2"), "someone's data");
        Files.createSymbolicLink(vm7.resolve("dangling.qcow2"), vm7.resolve("nowhere.qcow2"));
        Files.createSymbolicLink(vm7.resolve("link-to-disk0.qcow2"), vm7.resolve("disk0.qcow2"));
        Files.createSymbolicLink(vm7.resolve("link-out"), outside);
        Files.writeString(vm7.resolve("aside.qcow2.xensnap-old"), "someone's data");
        Files.setPosixFilePermissions(Files.createDirectories(vm7.resolve("open")),
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(Files.createDirectories(vm7.resolve("nobodys")), "unix:uid", 65534);

        String uuid12 = Dom0.uuid(12);
        Path vm12 = Files.createDirectories(dom0.images.resolve("vm12"));
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", vm12.resolve("d.qcow2").toString(), "16M");
        DiskSnapshot old = new DiskSnapshot("xvda", SnapshotKind.INTERNAL, vm12.resolve("d.qcow2"), DiskFormat.QCOW2,
                null);
        DomainCatalog c12 = new DomainCatalog(uuid12, "vm12", "old",
                List.of(new DiskImage("xvda", vm12.resolve("d.qcow2"), DiskFormat.QCOW2)),
                Optional.of(new PendingOperation(PendingOperation.Kind.CREATE, "new", Instant.parse(
                        "2026-01-01T00:00:00Z"), "", List.of(old))),
                List.of(new SnapshotInfo(uuid12, "old", "", Instant.parse("2025-12-31T00:00:00Z"), null, List.of(old))));
        new CatalogStore(dom0.state).save(c12);

        Path vm13 = atTheLimits(dom0);

        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("vm7", vm7.toString());
        vars.put("vm13", vm13.toString());
        vars.put("vm9", dom0.images.resolve("vm9").toString());
        vars.put("outside", outside.toString());
        vars.put("state", dom0.state.toString());
        vars.put("libxl", dom0.host.libxlDir().toString());
        vars.put("uuid12", uuid12);
        vars.put("UUID7", Dom0.uuid(7).toUpperCase(java.util.Locale.ROOT));
        return vars;
    }

    /** Domain 13: a chain of {@code chain.max.length} images on xvda, {@code internal.snapshots.max} on xvdb. */
    private static Path atTheLimits(Dom0 dom0) throws Exception {
        CreateLimits limits = CreateLimits.defaults();
        Path vm13 = Files.createDirectories(dom0.images.resolve("vm13"));
        Path top = vm13.resolve("layer0.raw");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "raw", top.toString(), "16M");
        for (int i = 1; i < limits.maxChainLength(); i++) {
            Path next = vm13.resolve("layer" + i + ".qcow2");
            ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", top.getFileName().toString(), "-F",
                    i == 1 ? "raw" : "qcow2", next.toString());
            top = next;
        }
        Path full = vm13.resolve("full.qcow2");
        ShortCommand.ok("qemu-img", "create", "-q", "-f", "qcow2", full.toString(), "16M");
        for (int i = 0; i < limits.maxInternalSnapshots(); i++) {
            ShortCommand.ok("qemu-img", "snapshot", "-c", "made-outside-" + i, full.toString());
        }
        dom0.restart(13, 13, List.of(top, full), List.of(RealQemu.Format.QCOW2, RealQemu.Format.QCOW2));
        return vm13;
    }

    /**
     * How a case ended when run through the service.
     *
     * @param code     the code it failed with, empty when it succeeded (which no case may)
     * @param byValues whether the values refused it while being built from the strings (before the engine was called)
     */
    record Outcome(Optional<SnapshotError> code, boolean byValues) {
    }

    /** Runs a case through the service, as a surface that builds its values with {@link UserInput} would. */
    static Outcome throughTheService(SnapshotEngine engine, Case c) {
        DomainRef ref;
        SnapshotRequest request = null;
        try {
            ref = UserInput.domain(c.domain());
            if (c.op() == Op.CREATE || c.op() == Op.CREATE_WITH_MEMORY) {
                List<DiskSpec> specs = new ArrayList<>();
                for (Disk d : c.disks()) {
                    specs.add(UserInput.disk(d.vdev(), d.kind(), d.overlay(), d.format()));
                }
                QuiescePolicy policy = UserInput.quiesce(c.quiesce());
                request = UserInput.valid(() -> new SnapshotRequest(ref, c.name(), c.description(), specs,
                        c.op() == Op.CREATE_WITH_MEMORY, policy));
            }
        } catch (SnapshotException e) {
            return new Outcome(Optional.of(e.code()), true);
        }
        try {
            switch (c.op()) {
                case CREATE, CREATE_WITH_MEMORY -> engine.create(request);
                case REVERT -> engine.revert(ref, c.name());
                case REVERT_AND_RESTART -> engine.revertAndRestart(ref, c.name());
                case DELETE -> engine.delete(ref, c.name());
                case GET -> engine.get(ref, c.name());
                case LIST -> engine.list(ref);
            }
            return new Outcome(Optional.empty(), false);
        } catch (SnapshotException e) {
            return new Outcome(Optional.of(e.code()), false);
        }
    }
}
