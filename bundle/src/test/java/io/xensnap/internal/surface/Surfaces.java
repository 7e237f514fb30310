package io.xensnap.internal.surface;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.rmi.server.RMIServerSocketFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.MBeanServerConnection;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;

import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.impl.action.command.ManagerImpl;
import org.apache.karaf.shell.impl.console.SessionFactoryImpl;

import io.xensnap.internal.config.Settings;
import io.xensnap.internal.engine.Dom0;
import io.xensnap.internal.engine.create.CreateLimits;
import io.xensnap.internal.jmx.SnapshotsMBean;
import io.xensnap.internal.jmx.SnapshotsMBeanImpl;
import io.xensnap.internal.qmp.QmpTimeouts;
import io.xensnap.internal.schedule.ScheduleService;
import io.xensnap.internal.service.DomainLockRegistry;
import io.xensnap.internal.service.LibxlConfigUpdater;
import io.xensnap.internal.service.QemuImgRunner;
import io.xensnap.internal.service.QmpConnector;
import io.xensnap.internal.service.SnapshotService;
import io.xensnap.internal.service.XenstoreConnector;
import io.xensnap.internal.shell.CreateSnapshotCommand;
import io.xensnap.internal.shell.DeleteSnapshotCommand;
import io.xensnap.internal.shell.ListSnapshotsCommand;
import io.xensnap.internal.shell.RevertSnapshotCommand;
import io.xensnap.internal.shell.SchedulesCommand;
import io.xensnap.internal.shell.SnapshotInfoCommand;

/**
 * The three ways in, as an operator reaches them, on one dom0: the real service component built from its settings, its
 * MBean behind a real JMX RMI connector (loopback only) as JConsole calls it, and Karaf's own shell (its parser,
 * argument and service injection) running the {@code snapshot:*} commands, with everything they print in
 * {@link #console()}.
 */
final class Surfaces implements AutoCloseable {

    final SnapshotService service;
    final ScheduleService schedules;
    final MBeanServerConnection mbeans;
    final ObjectName snapshotsMBean;
    final Session session;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    /** What was started, closed in reverse order; also when the constructor fails half way. */
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** Starts the service on {@code dom0} and waits for its reconcile at start; the caller closes both. */
    Surfaces(Dom0 dom0) throws Exception {
        try {
            Settings settings = settings(dom0);
            SnapshotService s = startService(settings);
            service = s;
            schedules = new ScheduleService(s, settings, new XenstoreConnector(settings));
            started.push(schedules::deactivate);
            snapshotsMBean = new ObjectName(SnapshotsMBean.OBJECT_NAME);
            mbeans = connectMBean(s, snapshotsMBean);
            session = openSession(s);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private static Settings settings(Dom0 dom0) {
        return new Settings(dom0.host.root().resolve("var/run/xen"), dom0.host.libxlDir(),
                dom0.xenstored.socketPath(), Path.of("/usr/bin/qemu-img"), dom0.state, List.of(dom0.images),
                QmpTimeouts.defaults(), Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(20), 2, false, 0, CreateLimits.defaults());
    }

    private SnapshotService startService(Settings settings) throws Exception {
        SnapshotService s = new SnapshotService(settings, new XenstoreConnector(settings), new QmpConnector(settings),
                new QemuImgRunner(settings), new LibxlConfigUpdater(settings), new DomainLockRegistry());
        started.push(s::deactivate);
        assertThat(s.awaitStartupReconcile(Duration.ofSeconds(30))).as("reconcile at start ended").isTrue();
        return s;
    }

    private MBeanServerConnection connectMBean(SnapshotService s, ObjectName name) throws Exception {
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        SnapshotsMBeanImpl mbean = new SnapshotsMBeanImpl(s);
        mbean.bindSchedules(schedules);
        server.registerMBean(mbean, name);
        RMIServerSocketFactory loopbackOnly = port -> new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        JMXConnectorServer jmxServer = JMXConnectorServerFactory.newJMXConnectorServer(
                new JMXServiceURL("service:jmx:rmi://127.0.0.1"),
                Map.of(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, loopbackOnly), server);
        jmxServer.start();
        started.push(jmxServer::stop);
        JMXConnector jmxClient = JMXConnectorFactory.connect(jmxServer.getAddress());
        started.push(jmxClient);
        return jmxClient.getMBeanServerConnection();
    }

    private Session openSession(SnapshotService s) throws Exception {
        ThreadIOImpl threadIO = new ThreadIOImpl();
        threadIO.start();
        started.push(threadIO::stop);
        SessionFactoryImpl shell = new SessionFactoryImpl(threadIO);
        started.push(shell::stop);
        shell.register(s);
        shell.register(schedules);
        ManagerImpl manager = new ManagerImpl(shell, shell);
        for (Class<?> command : List.of(CreateSnapshotCommand.class, RevertSnapshotCommand.class,
                DeleteSnapshotCommand.class, SnapshotInfoCommand.class, ListSnapshotsCommand.class,
                SchedulesCommand.class)) {
            manager.register(command);
        }
        PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8);
        Session created = shell.create(new ByteArrayInputStream(new byte[0]), out, out);
        started.push(created::close);
        return created;
    }

    /**
     * Calls an operation of the MBean over the JMX connector, as JConsole does: every parameter is a string (null
     * included, as a client may send it).
     */
    Object mbean(String operation, String... args) throws Exception {
        String[] signature = new String[args.length];
        Arrays.fill(signature, String.class.getName());
        return mbeans.invoke(snapshotsMBean, operation, args, signature);
    }

    /** Everything the console printed so far. */
    ByteArrayOutputStream console() {
        return console;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
