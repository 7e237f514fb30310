package io.xensnap.internal.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which settings are in force as the configuration changes, through the real validator on real files. */
class SettingsGateTest {

    private final SettingsGate gate = new SettingsGate(new ConfigurationValidator(k -> null));

    @Test
    void anInvalidFirstConfigurationLeavesXensnapInactive() {
        TestConfiguration bad = new TestConfiguration();
        bad.parallelism = 0;

        SettingsGate.Outcome o = gate.offer(bad, Set.of("parallelism"));

        assertThat(o).isEqualTo(new SettingsGate.Outcome.Refused("configuration io.xensnap is invalid, xensnap stays"
                + " inactive until it is fixed: parallelism = 0: must be 1 to 64", false));
        assertThat(gate.inForce()).isEmpty();
    }

    @Test
    void anUnsafeProgramAfterAValidConfigurationIsRefusedAndThePreviousStaysInForce(@TempDir Path tmp)
            throws Exception {
        Settings first = ((SettingsGate.Outcome.Accepted) gate.offer(new TestConfiguration(), Set.of("state.dir"))).settings();

        Path evil = tmp.resolve("evil.sh");
        Files.writeString(evil, "#!/bin/sh\n");
        Files.setAttribute(evil, "unix:mode", 0755);
        Files.setAttribute(evil, "unix:uid", 65534);
        TestConfiguration unsafe = new TestConfiguration();
        unsafe.qemuImg = evil.toString();
        unsafe.stateDir = "/srv/elsewhere";

        SettingsGate.Outcome o = gate.offer(unsafe, Set.of("qemu.img", "state.dir"));

        assertThat(o).isEqualTo(new SettingsGate.Outcome.Refused("configuration io.xensnap is invalid, it was not"
                + " applied, xensnap keeps running with the previous configuration until it is fixed: qemu.img = '"
                + evil + "': not a program only root can change: " + evil + " is owned by uid 65534, not root", true));
        assertThat(gate.inForce()).contains(first);
        assertThat(first.qemuImg()).isEqualTo(Path.of("/usr/bin/qemu-img"));
        assertThat(first.stateDir()).as("no key of a refused configuration applies")
                .isEqualTo(Path.of("/var/lib/xensnap"));

        TestConfiguration fixed = new TestConfiguration();
        fixed.stateDir = "/srv/elsewhere";
        Settings next = ((SettingsGate.Outcome.Accepted) gate.offer(fixed, Set.of("state.dir"))).settings();
        assertThat(gate.inForce()).contains(next);
        assertThat(next.stateDir()).isEqualTo(Path.of("/srv/elsewhere"));
    }

    @Test
    void aConfigurationWithoutAnyOfXensnapsKeysAfterOneWithKeysIsRefused() {
        TestConfiguration mine = new TestConfiguration();
        mine.stateDir = "/srv/xensnap";
        Settings first = ((SettingsGate.Outcome.Accepted) gate.offer(mine, Set.of("state.dir",
                "felix.fileinstall.filename", "service.pid"))).settings();

        // what Karaf hands over after reading the file while it was being rewritten: its own keys only
        SettingsGate.Outcome o = gate.offer(new TestConfiguration(), Set.of("felix.fileinstall.filename",
                "service.pid", "component.name", "component.id"));

        assertThat(o).isEqualTo(new SettingsGate.Outcome.Refused("configuration io.xensnap arrived without any of"
                + " xensnap's keys, as when etc/io.xensnap.cfg was read while being rewritten (empty); it was not"
                + " applied, xensnap keeps running with the previous configuration. To go back to the defaults,"
                + " write them into the file", true));
        assertThat(gate.inForce()).contains(first);
        assertThat(first.stateDir()).isEqualTo(Path.of("/srv/xensnap"));
    }

    @Test
    void aFirstConfigurationWithoutKeysRunsOnTheDefaultsAndSoMayTheNextOne() {
        assertThat(gate.offer(new TestConfiguration(), Set.of("service.pid"))).isInstanceOf(
                SettingsGate.Outcome.Accepted.class);
        assertThat(gate.offer(new TestConfiguration(), Set.of("service.pid"))).isInstanceOf(
                SettingsGate.Outcome.Accepted.class);
    }

    @Test
    void everyKeyOfTheMetatypeIsKnownByItsName() {
        assertThat(SettingsGate.KEYS).contains("xen.run.dir", "merge.speed", "free.space.min.percent",
                "sockets.any.owner").hasSize(XensnapConfiguration.class.getDeclaredMethods().length);
    }
}
