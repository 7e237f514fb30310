package io.xensnap.internal.config;

import java.util.Map;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the {@link Settings} of the configuration {@code io.xensnap} while a valid one is in force
 * ({@link SettingsGate}). A bad value is one ERROR line naming the key. At the first configuration every other
 * component then stays unsatisfied ({@code scr:info} shows the missing {@code Settings}) instead of failing with stack
 * traces of its own; after a valid one, a bad change is refused and the previous Settings stay registered.
 *
 * <p>A valid change unregisters the old Settings, which takes away every component built on them, and registers the
 * new ones, on which they come back.
 */
@Component(configurationPid = XensnapConfiguration.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = XensnapConfiguration.class)
public final class SettingsPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsPublisher.class);

    private final BundleContext context;
    private final SettingsGate gate;
    private ServiceRegistration<Settings> registration;

    @Activate
    public SettingsPublisher(XensnapConfiguration config, Map<String, Object> properties, BundleContext context) {
        this(config, properties, context, System::getenv);
    }

    SettingsPublisher(XensnapConfiguration config, Map<String, Object> properties, BundleContext context,
            Function<String, String> env) {
        this.context = context;
        this.gate = new SettingsGate(new ConfigurationValidator(env));
        apply(config, properties);
    }

    /** Without it SCR would deactivate this component on a change, and a refused change would leave nothing running. */
    @Modified
    void modified(XensnapConfiguration config, Map<String, Object> properties) {
        apply(config, properties);
    }

    private void apply(XensnapConfiguration config, Map<String, Object> properties) {
        if (gate.offer(config, properties.keySet()) instanceof SettingsGate.Outcome.Refused refused) {
            LOG.error(refused.line());
            return;
        }
        Settings settings = gate.inForce().orElseThrow();
        LOG.info("configuration {} accepted: catalog in {}, xenstored at {}, QMP sockets in {}, libxl configs in {},"
                + " qemu-img {}", XensnapConfiguration.PID, settings.stateDir(), settings.xenstoredSocket(),
                settings.xenRunDir(), settings.xenLibDir(), settings.qemuImg());
        if (registration != null) {
            registration.unregister();
        }
        registration = context.registerService(Settings.class, settings, null);
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
        }
    }
}
