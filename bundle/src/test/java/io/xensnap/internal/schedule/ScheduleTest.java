package io.xensnap.internal.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.internal.xenstore.XenDomain;

/** A schedule's configuration as the file installer hands it over, checked into a {@link Schedule}. */
class ScheduleTest {

    /** The configuration with the metatype's defaults and a cron, each value replaceable. */
    static final class Config implements ScheduleConfiguration {
        String name = "";
        String[] domains = {"all"};
        String cron = "0 2 * * *";
        String zone = "UTC";
        String kind = "default";
        String[] disks = {};
        int keepLast = 7;

        @Override
        public Class<? extends Annotation> annotationType() {
            return ScheduleConfiguration.class;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String[] domains() {
            return domains;
        }

        @Override
        public String cron() {
            return cron;
        }

        @Override
        public String time_zone() {
            return zone;
        }

        @Override
        public String kind() {
            return kind;
        }

        @Override
        public String[] disks() {
            return disks;
        }

        @Override
        public int keep_last() {
            return keepLast;
        }

        @Override
        public int keep_daily() {
            return 0;
        }

        @Override
        public int keep_weekly() {
            return 0;
        }
    }

    @Test
    void theNameComesFromTheConfigurationOrTheFile() {
        assertThat(Schedule.nameOf("", Map.of("service.pid", "io.xensnap.schedule~nightly"))).isEqualTo("nightly");
        assertThat(Schedule.nameOf("", Map.of("service.pid", "io.xensnap.schedule.8c1f",
                "felix.fileinstall.filename", "file:/opt/karaf/etc/io.xensnap.schedule-hourly.cfg")))
                .isEqualTo("hourly");
        assertThat(Schedule.nameOf(" weekly ", Map.of("service.pid", "io.xensnap.schedule~x"))).isEqualTo("weekly");
    }

    @Test
    void aRunAsksForItsDisksUnderItsNameInUtc() {
        Config c = new Config();
        c.domains = new String[] {"web-*, 6f1e4a52-0d3b-4c8e-9a1f-000000000007"};
        c.kind = "external";
        c.disks = new String[] {"xvda,xvdb"};
        c.zone = "Europe/Paris";
        Schedule s = Schedule.from(c, "nightly");

        SnapshotRequest r = s.request(DomainRef.running(7), Instant.parse("2026-07-01T00:30:00.9Z"));
        assertThat(r.name()).isEqualTo("nightly-20260701T003000Z");
        assertThat(r.disks()).extracting(d -> d.vdev() + ":" + d.kind()).containsExactly("xvda:" + SnapshotKind.EXTERNAL,
                "xvdb:" + SnapshotKind.EXTERNAL);
        assertThat(s.domains().matches(new XenDomain(3, "web-1", "00000000-0000-4000-8000-000000000003"))).isTrue();
        assertThat(s.domains().matches(new XenDomain(7, "db", "6F1E4A52-0D3B-4C8E-9A1F-000000000007"))).isTrue();
        assertThat(s.domains().matches(new XenDomain(8, "db", "00000000-0000-4000-8000-000000000008"))).isFalse();
    }

    @Test
    void badConfigurationsAreNamed() {
        Config c = new Config();
        c.zone = "Mars/Olympus";
        assertThatThrownBy(() -> Schedule.from(c, "n")).hasMessageContaining("time.zone 'Mars/Olympus'");
        Config k = new Config();
        k.kind = "internal";
        assertThatThrownBy(() -> Schedule.from(k, "n")).hasMessageContaining("need the disks listed");
        assertThatThrownBy(() -> Schedule.from(new Config(), "")).hasMessageContaining("schedule name ''");
        assertThatThrownBy(() -> Schedule.from(new Config(), "xensnap-undo")).hasMessageContaining("not starting");
        assertThatThrownBy(() -> Schedule.from(new Config(), "a".repeat(48))).hasMessageContaining("at most 47");
        Config cron = new Config();
        cron.cron = "every night";
        assertThatThrownBy(() -> Schedule.from(cron, "n")).hasMessageContaining("has 2 fields");
        Config keep = new Config();
        keep.keepLast = 0;
        assertThatThrownBy(() -> Schedule.from(keep, "n")).hasMessageContaining("keep.last");
        assertThat(Schedule.from(new Config(), "a".repeat(47)).request(DomainRef.running(1), Instant.EPOCH).name())
                .hasSize(64);
    }

    @Test
    void everyDomainByDefault() {
        assertThat(Schedule.from(new Config(), "n").domains().matches(new XenDomain(1, "x", "u"))).isTrue();
        assertThat(new DomainSelector(List.of("vm?")).matches(new XenDomain(1, "vm12", "u"))).isFalse();
    }
}
