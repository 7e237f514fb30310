package io.xensnap.internal;

import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate between the configuration {@code io.xensnap} and everything else: registers {@link Settings} only while the
 * configuration is valid. A bad value is one ERROR line naming the key; every other component then stays unsatisfied
 * ({@code scr:info} shows the missing {@code Settings}) instead of failing with stack traces of its own.
 *
 * <p>No {@code @Modified}: a changed configuration deactivates this component and activates it again, which takes the
 * old Settings away and with them every component built on them; they come back built on the new ones.
 */
@Component(configurationPid = XensnapConfiguration.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = XensnapConfiguration.class)
public final class SettingsPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsPublisher.class);

    private final ServiceRegistration<Settings> registration;

    @Activate
    public SettingsPublisher(XensnapConfiguration config, BundleContext context) {
        this(config, context, System::getenv);
    }

    SettingsPublisher(XensnapConfiguration config, BundleContext context, Function<String, String> env) {
        Settings settings;
        try {
            settings = new ConfigurationValidator(env).validate(config);
        } catch (InvalidConfigurationException e) {
            LOG.error(e.getMessage());
            registration = null;
            return;
        }
        LOG.info("configuration {} accepted: catalog in {}, xenstored at {}, QMP sockets in {}, libxl configs in {}",
                XensnapConfiguration.PID, settings.stateDir(), settings.xenstoredSocket(), settings.xenRunDir(),
                settings.xenLibDir());
        registration = context.registerService(Settings.class, settings, null);
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
        }
    }
}
