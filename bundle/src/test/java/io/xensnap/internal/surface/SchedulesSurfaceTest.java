package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanException;
import javax.management.Notification;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DomainRef;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.jmx.SnapshotsMBean;
import io.xensnap.internal.schedule.Cron;
import io.xensnap.internal.schedule.DomainSelector;
import io.xensnap.internal.schedule.Retention;
import io.xensnap.internal.schedule.Schedule;

/**
 * The schedules through the console ({@code snapshot:schedules}, run by Karaf's shell) and the MBean (attribute
 * {@code Schedules}, operation {@code runSchedule}, notification {@code io.xensnap.schedule.ran}, over a real JMX
 * connector), on the real service and dom0.
 */
class SchedulesSurfaceTest {

    private static Dom0 dom0;
    private static Surfaces surfaces;

    @BeforeAll
    static void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
        dom0.domain(7);
        surfaces = new Surfaces(dom0);
        // once a year: only "run now" runs it during the test
        surfaces.schedules.put(new Schedule("yearly", new DomainSelector(List.of("vm7")), Cron.parse("0 0 1 1 *"),
                ZoneId.of("Europe/Paris"), "internal", List.of("xvda"), new Retention(1, 0, 0)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (surfaces != null) {
            surfaces.close();
        }
        if (dom0 != null) {
            dom0.close();
        }
    }

    private static String run(String line) throws Exception {
        int from = surfaces.console().size();
        surfaces.session.execute(line);
        byte[] all = surfaces.console().toByteArray();
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    @Test
    void theConsoleListsAndRunsASchedule() throws Exception {
        assertThat(run("snapshot:schedules --no-format")).contains("yearly").contains("'0 0 1 1 *' Europe/Paris")
                .contains(java.time.ZonedDateTime.now(ZoneId.of("Europe/Paris")).plusYears(1)
                        .withDayOfYear(1).truncatedTo(java.time.temporal.ChronoUnit.DAYS).toInstant().toString())
                .containsPattern("not run yet|ok: 1 created");
        assertThat(run("snapshot:schedules --run yearly")).startsWith("schedule yearly: ok: 1 created, ");
        // at once: the second run waits for the next second, so that its snapshot's name differs
        assertThat(run("snapshot:schedules --run yearly")).startsWith("schedule yearly: ok: 1 created, 1 deleted");
        assertThat(run("snapshot:schedules --no-format")).contains("ok: 1 created, 1 deleted");
        assertThat(surfaces.service.list(DomainRef.running(7)).snapshots()).singleElement()
                .satisfies(s -> assertThat(s.name()).startsWith("yearly-"));
        assertThatThrownBy(() -> surfaces.session.execute("snapshot:schedules --run nope"))
                .hasMessageStartingWith("[INVALID_ARGUMENT] no schedule named 'nope'; configured: [yearly]");
    }

    @Test
    void theMBeanShowsRunsAndAnnouncesASchedule() throws Exception {
        BlockingQueue<Notification> got = new LinkedBlockingQueue<>();
        surfaces.mbeans.addNotificationListener(surfaces.snapshotsMBean, (n, h) -> got.add(n), null, null);

        String summary = (String) surfaces.mbean("runSchedule", "yearly");

        assertThat(summary).startsWith("ok: 1 created");
        String[] lines = (String[]) surfaces.mbeans.getAttribute(surfaces.snapshotsMBean, "Schedules");
        assertThat(lines).singleElement().satisfies(l -> assertThat(l).startsWith("yearly | '0 0 1 1 *'"
                + " Europe/Paris | next ").contains("| last ").contains(summary));
        Notification n = got.poll(10, TimeUnit.SECONDS);
        assertThat(n).isNotNull();
        assertThat(n.getType()).isEqualTo(SnapshotsMBean.SCHEDULE_RAN);
        assertThat(n.getMessage()).isEqualTo("schedule yearly: " + summary);
        assertThatThrownBy(() -> surfaces.mbean("runSchedule", "nope")).isInstanceOf(MBeanException.class)
                .hasMessageStartingWith("[INVALID_ARGUMENT] no schedule named 'nope'");
    }
}
