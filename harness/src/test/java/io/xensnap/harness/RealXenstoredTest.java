package io.xensnap.harness;

import static org.assertj.core.api.Assertions.assertThat;

import io.xensnap.harness.RealXenstored.Profile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RealXenstoredTest {

    @ParameterizedTest
    @EnumSource(Profile.class)
    void answersWritesAndReadsOverItsSocket(Profile profile) throws IOException {
        try (RealXenstored xs = RealXenstored.start(profile); XsWire wire = XsWire.connect(xs.socketPath())) {
            assertThat(wire.write(0, "/t/a", "hello").text()).isEqualTo("OK");
            XsWire.Reply read = wire.read("/t/a");
            assertThat(read.type()).isEqualTo(XsWire.READ);
            assertThat(read.text()).isEqualTo("hello");
            assertThat(new XenstoreCli(xs.socketPath()).read("/t/a")).isEqualTo("hello");
            XsWire.Reply missing = wire.read("/t/missing");
            assertThat(missing.isError()).isTrue();
            assertThat(missing.text()).isEqualTo("ENOENT");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void toolXenstoredTellsTheDaemonsApart(Profile profile) throws IOException {
        try (RealXenstored xs = RealXenstored.start(profile); XsWire wire = XsWire.connect(xs.socketPath())) {
            // cxenstored leaves it empty, oxenstored puts its own path there (docs/xen-host.md#daemon-differences).
            String expected = profile == Profile.CXENSTORED ? "" : "/usr/lib/xen-4.17/bin/oxenstored";
            assertThat(wire.read("/tool/xenstored").text()).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void transactionConflictingWithAnotherWriterGivesEagain(Profile profile) throws IOException {
        try (RealXenstored xs = RealXenstored.start(profile);
             XsWire a = XsWire.connect(xs.socketPath());
             XsWire b = XsWire.connect(xs.socketPath())) {
            assertThat(a.write(0, "/t/x", "0").text()).isEqualTo("OK");
            XsWire.Reply start = a.call(XsWire.TRANSACTION_START, 0, true, "");
            assertThat(start.type()).isEqualTo(XsWire.TRANSACTION_START);
            int tx = Integer.parseInt(start.text());
            assertThat(a.call(XsWire.READ, tx, true, "/t/x").text()).isEqualTo("0");
            assertThat(a.write(tx, "/t/x", "from-a").text()).isEqualTo("OK");

            assertThat(b.write(0, "/t/x", "from-b").text()).isEqualTo("OK");

            XsWire.Reply end = a.call(XsWire.TRANSACTION_END, tx, true, "T");
            assertThat(end.isError()).isTrue();
            assertThat(end.text()).isEqualTo("EAGAIN");
            assertThat(b.read("/t/x").text()).isEqualTo("from-b");
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void stopLeavesNoProcessAndNothingOutsideTheRunDirectory(Profile profile) throws IOException {
        boolean runXenstoredExisted = Files.exists(Path.of("/run/xenstored"));
        boolean logXenExisted = Files.exists(Path.of("/var/log/xen/xenstored.log"));
        RealXenstored xs = RealXenstored.start(profile);
        try {
            long pid = xs.pid();
            assertThat(xs.socketPath()).startsWith(xs.runDir());
            xs.stop();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(xs.isAlive()).isFalse();
            if (profile == Profile.OXENSTORED) {
                // oxenstored dumps its store to the compiled-in /var/run/xenstored/db on SIGTERM: the shim moved it.
                assertThat(xs.runDir().resolve("var/run/xenstored/db")).exists();
            }
            assertThat(Files.exists(Path.of("/run/xenstored"))).isEqualTo(runXenstoredExisted);
            assertThat(Files.exists(Path.of("/var/log/xen/xenstored.log"))).isEqualTo(logXenExisted);
        } finally {
            xs.close();
        }
        assertThat(xs.runDir()).doesNotExist();
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void killEndsTheDaemonAtOnce(Profile profile) throws IOException {
        try (RealXenstored xs = RealXenstored.start(profile)) {
            long pid = xs.pid();
            xs.kill();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            // A killed oxenstored has no chance to dump its store.
            assertThat(xs.runDir().resolve("var/run/xenstored/db")).doesNotExist();
        }
    }

    @Test
    void severalDaemonsOfBothKindsRunSideBySideWithSeparateStores() throws IOException {
        List<RealXenstored> daemons = new ArrayList<>();
        try {
            for (Profile p : List.of(Profile.CXENSTORED, Profile.OXENSTORED, Profile.CXENSTORED, Profile.OXENSTORED)) {
                daemons.add(RealXenstored.start(p));
            }
            assertThat(daemons.stream().map(RealXenstored::socketPath).distinct()).hasSize(4);
            for (int i = 0; i < daemons.size(); i++) {
                try (XsWire wire = XsWire.connect(daemons.get(i).socketPath())) {
                    assertThat(wire.write(0, "/who", "daemon-" + i).text()).isEqualTo("OK");
                }
            }
            for (int i = 0; i < daemons.size(); i++) {
                try (XsWire wire = XsWire.connect(daemons.get(i).socketPath())) {
                    assertThat(wire.read("/who").text()).isEqualTo("daemon-" + i);
                }
            }
        } finally {
            daemons.forEach(RealXenstored::close);
        }
        assertThat(daemons).noneMatch(RealXenstored::isAlive);
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void everyXenCallTheBinaryImportsWasReviewedAgainstTheShim(Profile profile) {
        // start() refuses a binary with unreviewed imports; equality also catches a call that went away.
        assertThat(RealXenstored.xenImports(profile.binary().require()))
                .isEqualTo(RealXenstored.reviewedImports(profile));
    }
}
