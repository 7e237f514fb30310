package io.xensnap.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigurationValidatorTest {

    private static final ConfigurationValidator NO_ENV = new ConfigurationValidator(k -> null);

    @Test
    void theDefaultsAreValidAndBecomeTheSettings() throws Exception {
        Settings s = NO_ENV.validate(new TestConfiguration());

        assertThat(s.xenRunDir()).isEqualTo(Path.of("/var/run/xen"));
        assertThat(s.qmpSocket(7)).isEqualTo(Path.of("/var/run/xen/qmp-libxl-7"));
        assertThat(s.xenLibDir()).isEqualTo(Path.of("/var/lib/xen"));
        assertThat(s.xenstoredSocket()).isEqualTo(Path.of("/var/run/xenstored/socket"));
        assertThat(s.qemuImg()).isEqualTo(Path.of("/usr/bin/qemu-img"));
        assertThat(s.stateDir()).isEqualTo(Path.of("/var/lib/xensnap"));
        assertThat(s.overlayRoots()).containsExactly(Path.of("/var/lib/xen/images"));
        assertThat(s.qmp().connect()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.qmp().greeting()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.qmp().reply()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.qmp().job()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.qemuImgTimeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.xenstoreTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.libxlLockTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.domainBusyWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.parallelism()).isEqualTo(4);
        assertThat(s.socketsAnyOwner()).isFalse();
        assertThat(s.xl()).as("no xl unless configured: no domain snapshots").isEmpty();
        assertThat(s.xlTimeout()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void xlIsAProgramOnlyRootCanChangeAndItsTimeoutIsChecked() throws Exception {
        TestConfiguration c = new TestConfiguration();
        c.xl = "/bin/sh";
        c.xlTimeout = 1_000L;
        Settings s = NO_ENV.validate(c);
        assertThat(s.xl()).contains(Path.of("/bin/sh"));
        assertThat(s.xlTimeout()).isEqualTo(Duration.ofSeconds(1));

        c.xl = "xl";
        c.xlTimeout = 0L;
        assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                .containsExactly("xl.path", "xl.timeout.ms");
        c.xl = "/nonexistent/xl";
        c.xlTimeout = 1_000L;
        assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).getMessage())
                .contains("xl.path = '/nonexistent/xl': not a program only root can change");
    }

    @Test
    void socketsOfOtherOwnersAreRefusedUnlessSocketsAnyOwner(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("qmp-libxl-7");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setAttribute(socket, "unix:uid", 65534);

            assertThat(NO_ENV.validate(new TestConfiguration()).socketOwnerGuard().refusal(socket)).hasValueSatisfying(
                    why -> assertThat(why).contains("owned by uid 65534, not root").contains("sockets.any.owner"));

            TestConfiguration lenient = new TestConfiguration();
            lenient.socketsAnyOwner = true;
            Settings s = NO_ENV.validate(lenient);
            assertThat(s.socketsAnyOwner()).isTrue();
            assertThat(s.socketOwnerGuard().refusal(socket)).isEmpty();
        }
    }

    @Test
    void theGuardsLimitsBecomeTheSettingsAndOutOfRangeOnesAreNamed() throws Exception {
        TestConfiguration c = new TestConfiguration();
        c.chainMaxLength = 12;
        c.freeSpaceMinBytes = 0L;
        c.freeSpaceMinPercent = 10;
        c.internalSnapshotsMax = 7;
        assertThat(NO_ENV.validate(c).limits()).isEqualTo(new io.xensnap.internal.engine.create.CreateLimits(12, 0, 10,
                7));
        assertThat(NO_ENV.validate(new TestConfiguration()).limits())
                .isEqualTo(io.xensnap.internal.engine.create.CreateLimits.defaults());

        c.chainMaxLength = 1;
        c.freeSpaceMinBytes = -1L;
        c.freeSpaceMinPercent = 100;
        c.internalSnapshotsMax = "many";
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));

        assertThat(e.keys()).containsExactlyInAnyOrder("chain.max.length", "free.space.min.bytes",
                "free.space.min.percent", "internal.snapshots.max");
        assertThat(e.getMessage()).contains("chain.max.length = 1: must be 2 to 1000")
                .contains("free.space.min.percent = 100: must be 0 to 99")
                .contains("internal.snapshots.max: not a whole number (For input string: \"many\")");
    }

    @Test
    void theQuiesceKeysBecomeTheSettingsAndBadOnesAreNamed() throws Exception {
        TestConfiguration c = new TestConfiguration();
        c.quiesce = "require";
        c.quiesceTimeout = 2_000L;
        c.quiesceMaxFreeze = 3_000L;
        assertThat(NO_ENV.validate(c).quiesce()).isEqualTo(new io.xensnap.internal.engine.quiesce.QuiesceSettings(
                io.xensnap.api.QuiescePolicy.REQUIRE, java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(3)));

        c.quiesce = "always";
        c.quiesceTimeout = 0L;
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));
        assertThat(e.keys()).containsExactlyInAnyOrder("quiesce", "quiesce.timeout.ms");

        c.quiesce = "try";
        c.quiesceTimeout = 10_000L;
        c.quiesceMaxFreeze = 10_000L;
        e = catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c));
        assertThat(e.keys()).containsExactly("quiesce.max.freeze.ms");
        assertThat(e.getMessage()).contains("must be longer than quiesce.timeout.ms (10000)");
    }

    @Test
    void socketsAnyOwnerThatIsNoBooleanIsNamed() {
        TestConfiguration c = new TestConfiguration();
        c.socketsAnyOwner = "maybe";

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));

        assertThat(e.keys()).containsExactly("sockets.any.owner");
        assertThat(e.getMessage()).contains("sockets.any.owner: not true or false (cannot convert maybe to boolean)");
    }

    @Test
    void anEmptyXenstoredSocketIsLookedUpAsLibxenstoreDoes() throws Exception {
        Map<String, String> env = Map.of("XENSTORED_RUNDIR", "/run/xs");
        assertThat(new ConfigurationValidator(env::get).validate(new TestConfiguration()).xenstoredSocket())
                .isEqualTo(Path.of("/run/xs/socket"));

        TestConfiguration c = new TestConfiguration();
        c.xenstoredSocket = " /tmp/xs/socket ";
        assertThat(new ConfigurationValidator(env::get).validate(c).xenstoredSocket())
                .isEqualTo(Path.of("/tmp/xs/socket"));
    }

    @Test
    void overlayRootsComeAsAnArrayOrAsOneCommaSeparatedText() throws Exception {
        TestConfiguration c = new TestConfiguration();
        c.overlayRoots = new String[] {"/a, /b/c ,", "/d"};
        assertThat(NO_ENV.validate(c).overlayRoots()).containsExactly(Path.of("/a"), Path.of("/b/c"), Path.of("/d"));

        c.overlayRoots = new String[] {""};
        assertThat(NO_ENV.validate(c).overlayRoots()).as("empty allows internal snapshots only").isEmpty();
    }

    @Test
    void everyBadKeyIsNamedInOneMessage() {
        TestConfiguration c = new TestConfiguration();
        c.stateDir = "var/lib/xensnap";
        c.qmpReply = -5L;
        c.parallelism = 0;
        c.overlayRoots = new String[] {"/ok", "/x/../y"};

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));

        assertThat(e.keys()).containsExactly("state.dir", "overlay.roots", "qmp.reply.timeout.ms", "parallelism");
        assertThat(e.getMessage()).doesNotContain("\n")
                .startsWith("configuration io.xensnap is invalid: ")
                .contains("state.dir = 'var/lib/xensnap': must be an absolute path without . or .. parts")
                .contains("overlay.roots = '/x/../y'")
                .contains("qmp.reply.timeout.ms = -5: must be 1 to 604800000 ms")
                .contains("parallelism = 0: must be 1 to 64");
    }

    @Test
    void timeoutsAreBoundedOnBothSides() {
        for (Object bad : List.of(0L, -1L, ConfigurationValidator.MAX_TIMEOUT_MS + 1, Long.MAX_VALUE)) {
            TestConfiguration c = new TestConfiguration();
            c.job = bad;
            assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                    .as("job.timeout.ms = " + bad).containsExactly("job.timeout.ms");
        }
    }

    @Test
    void theDomainViewIsOnUnlessTurnedOffAndANonBooleanIsNamed() throws Exception {
        TestConfiguration c = new TestConfiguration();
        assertThat(NO_ENV.validate(c).domainView()).as("the default").isTrue();
        c.domainView = false;
        assertThat(NO_ENV.validate(c).domainView()).isFalse();
        c.domainView = "maybe";
        assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                .containsExactly("xenstore.domain.view");
    }

    @Test
    void mergeSpeedIsZeroForUnlimitedOrMoreAndReachesTheSettings() throws Exception {
        for (Object bad : List.of(-1L, Long.MIN_VALUE, "fast")) {
            TestConfiguration c = new TestConfiguration();
            c.mergeSpeed = bad;
            assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                    .as("merge.speed = " + bad).containsExactly("merge.speed");
        }
        TestConfiguration c = new TestConfiguration();
        assertThat(NO_ENV.validate(c).mergeSpeed()).as("the default: unlimited").isZero();
        c.mergeSpeed = 64L * 1024 * 1024;
        assertThat(NO_ENV.validate(c).mergeSpeed()).isEqualTo(64L * 1024 * 1024);
    }

    @Test
    void valuesSCRCannotConvertAreReportedUnderTheirKey() {
        TestConfiguration c = new TestConfiguration();
        c.xenstore = "five seconds";
        c.qemuImg = TestConfiguration.UNREADABLE;

        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));

        assertThat(e.keys()).containsExactly("qemu.img", "xenstore.timeout.ms");
        assertThat(e.getMessage())
                .contains("xenstore.timeout.ms: not a number of milliseconds (For input string: \"five seconds\")");
    }

    @Test
    void emptyAndRelativePathsAreRefused() {
        TestConfiguration c = new TestConfiguration();
        c.xenLibDir = "";
        c.qemuImg = "qemu-img";
        c.xenstoredSocket = "run/xenstored/socket";

        assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                .containsExactly("xen.lib.dir", "xenstored.socket", "qemu.img");
    }

    @Test
    void socketPathsMustFitIntoAUnixSocketAddress() {
        String deep = "/" + "d".repeat(100);
        TestConfiguration c = new TestConfiguration();
        // "/qmp-libxl-32751" is 16 bytes: a 91-byte directory is the longest that works for every domid
        c.xenRunDir = "/" + "r".repeat(90);
        c.xenstoredSocket = deep + "/socket";
        InvalidConfigurationException e = catchThrowableOfType(InvalidConfigurationException.class,
                () -> NO_ENV.validate(c));
        assertThat(e.keys()).containsExactly("xenstored.socket");
        assertThat(e.getMessage()).contains("longer than a UNIX socket allows (107)");

        c.xenstoredSocket = "";
        c.xenRunDir = "/" + "r".repeat(91);
        assertThat(catchThrowableOfType(InvalidConfigurationException.class, () -> NO_ENV.validate(c)).keys())
                .containsExactly("xen.run.dir");
    }
}
