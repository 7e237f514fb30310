package io.xensnap.internal.schedule;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One schedule per factory configuration {@code io.xensnap.schedule}: created, changed and removed with its
 * configuration ({@code etc/io.xensnap.schedule-<name>.cfg} edited or deleted takes effect at once). A configuration
 * {@link Schedule#from} refuses is logged with its reason and not scheduled; a schedule it replaced stops.
 */
@Component(configurationPid = ScheduleConfiguration.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = ScheduleConfiguration.class, factory = true)
public final class ScheduleComponent {

    private static final Logger LOG = LoggerFactory.getLogger(ScheduleComponent.class);

    private final ScheduleService schedules;
    private String name;

    @Activate
    public ScheduleComponent(@Reference(name = "schedules") ScheduleService schedules, ScheduleConfiguration config,
                             Map<String, Object> properties) {
        this.schedules = schedules;
        apply(config, properties);
    }

    @Modified
    void modified(ScheduleConfiguration config, Map<String, Object> properties) {
        apply(config, properties);
    }

    @Deactivate
    void deactivate() {
        stop();
    }

    private synchronized void apply(ScheduleConfiguration config, Map<String, Object> properties) {
        String wanted = Schedule.nameOf(config.name(), properties);
        Schedule schedule;
        try {
            schedule = Schedule.from(config, wanted);
        } catch (IllegalArgumentException e) {
            LOG.error("schedule '{}' ({}) is invalid and does not run: {}", wanted, properties.get("service.pid"),
                    e.getMessage());
            stop();
            return;
        }
        if (name != null && !name.equals(schedule.name())) {
            stop();
        }
        schedules.put(schedule);
        name = schedule.name();
        LOG.info("schedule {}: '{}' in {}, domains {}, keep last {}", name, schedule.cron().text(), schedule.zone(),
                schedule.domains().entries(), schedule.retention().keepLast());
    }

    private synchronized void stop() {
        if (name != null) {
            schedules.remove(name);
            name = null;
        }
    }
}
