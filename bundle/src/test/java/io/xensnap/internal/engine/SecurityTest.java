package io.xensnap.internal.engine;

import static io.xensnap.internal.engine.Faults.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.api.DiskFormat;
import io.xensnap.api.DiskImage;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.create.OverlayPolicy;
import io.xensnap.internal.engine.reconcile.ReconcileReport;
import io.xensnap.internal.libxl.DomainConfigStore;
import io.xensnap.internal.qemuimg.JdkProcessRunner;
import io.xensnap.internal.qemuimg.ProcessResult;
import io.xensnap.internal.qemuimg.QemuImg;
import io.xensnap.internal.qmp.QmpTimeouts;

/**
 * Overlay paths stay inside the configured roots after every symbolic link is resolved and never replace a file;
 * sockets root does not own are refused unless configured; nothing in the bundle runs a shell.
 */
class SecurityTest {

    @TempDir
    Path tmp;

    private static SnapshotError policyCode(OverlayPolicy policy, Path overlay) {
        return code(() -> policy.check(overlay));
    }

    @Test
    void overlaysStayInsideTheRootsAfterEveryLinkIsResolved() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("images/vm1"));
        Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createDirectories(tmp.resolve("images-evil"));
        Path linkedRoot = Files.createSymbolicLink(tmp.resolve("root-link"), tmp.resolve("images"));
        Files.createSymbolicLink(real.resolve("out"), outside);
        Files.createSymbolicLink(real.resolve("up"), tmp);
        Files.createSymbolicLink(real.resolve("in"), real);
        OverlayPolicy policy = new OverlayPolicy(List.of(tmp.resolve("images")));

        assertThat(policy.check(real.resolve("ov.qcow2"))).isEqualTo(real.resolve("ov.qcow2"));
        assertThat(policy.check(real.resolve("in/ov.qcow2"))).as("a link that stays inside").isNotNull();
        assertThat(new OverlayPolicy(List.of(linkedRoot)).check(real.resolve("ov.qcow2")))
                .as("a root that is itself a link").isNotNull();
        assertThat(policyCode(policy, real.resolve("out/ov.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, real.resolve("up/elsewhere/ov.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, tmp.resolve("images-evil/ov.qcow2")))
                .as("a sibling whose name starts like the root").isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, outside.resolve("ov.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(new OverlayPolicy(List.of()), real.resolve("ov.qcow2")))
                .as("no roots configured: nowhere").isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, real.resolve("a,b.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, real.resolve("a\u0007b.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThat(policyCode(policy, Path.of("relative.qcow2"))).isEqualTo(SnapshotError.INVALID_ARGUMENT);
        assertThatThrownBy(() -> new OverlayPolicy(List.of(Path.of("images")))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anOverlayNeverReplacesAFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        OverlayPolicy policy = new OverlayPolicy(List.of(dir));
        Files.writeString(dir.resolve("data.qcow2"), "precious");
        Files.createSymbolicLink(dir.resolve("dangling.qcow2"), tmp.resolve("nowhere"));
        Files.createSymbolicLink(dir.resolve("to-data.qcow2"), dir.resolve("data.qcow2"));
        Files.createSymbolicLink(dir.resolve("to-outside.qcow2"), tmp.resolve("victim"));

        for (String name : List.of("data.qcow2", "dangling.qcow2", "to-data.qcow2", "to-outside.qcow2")) {
            assertThat(policyCode(policy, dir.resolve(name))).as(name).isEqualTo(SnapshotError.SNAPSHOT_EXISTS);
        }
        assertThat(policyCode(policy, dir)).isEqualTo(SnapshotError.SNAPSHOT_EXISTS);
        assertThat(dir.resolve("data.qcow2")).hasContent("precious");
        assertThat(tmp.resolve("victim")).doesNotExist();
    }

    @Test
    void socketsNotOwnedByRootAreRefusedUnlessConfigured() throws Exception {
        try (Dom0 dom0 = new Dom0(RealXenstored.Profile.CXENSTORED)) {
            dom0.domain(7);
            Path qmp = dom0.host.qmpSocketPath(7);
            Path xs = dom0.xenstored.socketPath();
            SnapshotEngine strict = engine(dom0, new SocketOwnerGuard(false));
            SnapshotEngine lenient = engine(dom0, new SocketOwnerGuard(true));
            SnapshotRequest request = new SnapshotRequest(DomainRef.running(7), "s1", "",
                    List.of(DiskSpec.internal("xvda")));
            String before = dom0.fingerprint();

            Files.setAttribute(qmp, "unix:uid", 65534);
            assertThatThrownBy(() -> strict.create(request)).isInstanceOf(SnapshotException.class)
                    .hasMessageContaining("owned by uid 65534, not root")
                    .satisfies(e -> assertThat(((SnapshotException) e).code()).isEqualTo(SnapshotError.HYPERVISOR_ERROR));
            assertThat(dom0.fingerprint()).isEqualTo(before);

            Files.setAttribute(xs, "unix:uid", 65534);
            assertThatThrownBy(() -> strict.list(DomainRef.running(7))).isInstanceOf(SnapshotException.class)
                    .hasMessageContaining("xenstored's socket").hasMessageContaining("owned by uid 65534");
            assertThat(strict.reconcile(DomainRef.shutOff(Dom0.uuid(7), List.of(new DiskImage("xvda",
                    dom0.qemus.get(0).disk(0).image(), DiskFormat.QCOW2)))).findings())
                    .singleElement().satisfies(f -> assertThat(f.code()).isEqualTo(ReconcileReport.Code.PEER_UNREACHABLE));

            assertThat(lenient.create(request).name()).as("sockets.any.owner").isEqualTo("s1");
            Files.setAttribute(qmp, "unix:uid", 0);
            Files.setAttribute(xs, "unix:uid", 0);
            assertThat(strict.list(DomainRef.running(7)).current()).isEqualTo("s1");
        }
        Path notASocket = Files.writeString(tmp.resolve("qmp-libxl-3"), "");
        assertThat(new SocketOwnerGuard(false).refusal(notASocket)).hasValueSatisfying(r -> assertThat(r)
                .contains("is not a socket"));
        assertThat(new SocketOwnerGuard(false).refusal(tmp.resolve("missing"))).as("left to connect()").isEmpty();
    }

    private static SnapshotEngine engine(Dom0 dom0, SocketOwnerGuard guard) {
        return new EngineBuilder(
                Connectors.xenstore(dom0.xenstored.socketPath(), Duration.ofSeconds(5), guard),
                Connectors.qmp(dom0.host.qmpSocketPath(7).getParent(), QmpTimeouts.defaults(), guard))
                .qemuImg(new QemuImg(new JdkProcessRunner(), "/usr/bin/qemu-img", Duration.ofSeconds(30), Dom0.JSON))
                .libxl(new DomainConfigStore(dom0.host.libxlDir(), Clock.systemUTC(), Duration.ofSeconds(2)))
                .catalogs(dom0.state)
                .overlayRoots(List.of(dom0.images))
                .locks(new DomainLocks(Duration.ofSeconds(5)))
                .parallelism(2)
                .jobTimeout(Duration.ofMinutes(1))
                .build();
    }

    /** The programs a shell could be reached through. */
    private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh", "csh", "busybox", "env",
            "/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/env", "cmd", "cmd.exe",
            "powershell");

    @Test
    void noShellAnywhere() throws Exception {
        Path classes = Path.of("target/classes/io/xensnap");
        assertThat(classes).as("compiled bundle classes (run from the bundle module)").isDirectory();
        List<String> processStarters = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path c : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ConstantPool pool = ConstantPool.read(c);
                String name = Path.of("target/classes").relativize(c).toString();
                assertThat(pool.methodRefs()).as(name).noneMatch(m -> m.startsWith("java/lang/Runtime.exec"));
                assertThat(pool.strings()).as(name + ": string constants naming a shell")
                        .noneMatch(SHELLS::contains);
                if (pool.methodRefs().contains("java/lang/ProcessBuilder.<init>")) {
                    processStarters.add(name);
                }
            }
        }
        assertThat(processStarters).as("the one class that starts programs")
                .containsExactly("io/xensnap/internal/qemuimg/JdkProcessRunner.class");
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path s : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(s);
                assertThat(text).as(s.toString()).doesNotContain("Runtime.getRuntime().exec")
                        .doesNotContain("\"/bin/sh\"").doesNotContain("\"sh\", \"-c\"").doesNotContain("\"bash\"");
            }
        }
        // and the runner passes argv as it is: shell syntax stays a plain argument
        Path marker = tmp.resolve("marker");
        ProcessResult r = new JdkProcessRunner().run(List.of("/bin/echo", "x; touch " + marker, "$(touch " + marker
                + ")", "`touch " + marker + "`"), Duration.ofSeconds(10));
        assertThat(r.stdout()).isEqualTo("x; touch " + marker + " $(touch " + marker + ") `touch " + marker + "`\n");
        assertThat(marker).doesNotExist();
    }

    /** The constant pool of a class file: enough of JVMS §4.4 to list string constants and method references. */
    private record ConstantPool(List<String> strings, List<String> methodRefs) {

        static ConstantPool read(Path classFile) throws IOException {
            try (InputStream raw = Files.newInputStream(classFile); DataInputStream in = new DataInputStream(raw)) {
                if (in.readInt() != 0xCAFEBABE) {
                    throw new IOException(classFile + " is not a class file");
                }
                in.readUnsignedShort();
                in.readUnsignedShort();
                int count = in.readUnsignedShort();
                Map<Integer, String> utf8 = new HashMap<>();
                Map<Integer, Integer> classes = new HashMap<>();
                Map<Integer, Integer> stringRefs = new HashMap<>();
                Map<Integer, int[]> natRefs = new HashMap<>();
                List<int[]> methods = new ArrayList<>();
                for (int i = 1; i < count; i++) {
                    int tag = in.readUnsignedByte();
                    switch (tag) {
                        case 1 -> utf8.put(i, in.readUTF());
                        case 3, 4 -> in.readInt();
                        case 5, 6 -> {
                            in.readLong();
                            i++;
                        }
                        case 7 -> classes.put(i, in.readUnsignedShort());
                        case 8 -> stringRefs.put(i, in.readUnsignedShort());
                        case 9 -> in.readInt();
                        case 10, 11 -> methods.add(new int[] {in.readUnsignedShort(), in.readUnsignedShort()});
                        case 12 -> natRefs.put(i, new int[] {in.readUnsignedShort(), in.readUnsignedShort()});
                        case 15 -> {
                            in.readUnsignedByte();
                            in.readUnsignedShort();
                        }
                        case 16, 19, 20 -> in.readUnsignedShort();
                        case 17, 18 -> in.readInt();
                        default -> throw new IOException(classFile + ": unknown constant tag " + tag);
                    }
                }
                List<String> strings = stringRefs.values().stream().map(utf8::get).toList();
                List<String> refs = new ArrayList<>();
                for (int[] m : methods) {
                    int[] nat = natRefs.get(m[1]);
                    refs.add(utf8.get(classes.get(m[0])) + "." + utf8.get(nat[0]));
                }
                return new ConstantPool(strings, refs);
            }
        }
    }
}
