package io.xensnap.internal.jmx;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import javax.management.DynamicMBean;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanNotificationInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MalformedObjectNameException;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.StandardEmitterMBean;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.xensnap.api.DomainRef;
import io.xensnap.api.RevertResult;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotSpace;
import io.xensnap.api.SnapshotTree;
import io.xensnap.internal.engine.Progress;
import io.xensnap.internal.schedule.RunResult;
import io.xensnap.internal.schedule.ScheduleLines;
import io.xensnap.internal.schedule.ScheduleService;
import io.xensnap.internal.service.SnapshotOperations;
import io.xensnap.internal.surface.ReconcileLines;
import io.xensnap.internal.surface.UserInput;
import io.xensnap.internal.surface.Visible;

/**
 * The snapshots MBean. Registered by Karaf's JMX whiteboard through the {@code jmx.objectname} service property; its
 * access rules are the feature's {@code jmx.acl.io.xensnap.snapshots} configuration.
 *
 * <p>A standard MBean, not an MXBean: the MXBean mapping would treat the {@code CompositeData} and {@code TabularData}
 * results as Java beans and send their type descriptions instead of their contents.
 */
@Component(service = DynamicMBean.class, property = "jmx.objectname=" + SnapshotsMBean.OBJECT_NAME)
public final class SnapshotsMBeanImpl extends StandardEmitterMBean implements SnapshotsMBean {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotsMBeanImpl.class);

    private static final MBeanNotificationInfo[] NOTIFICATIONS = {
            new MBeanNotificationInfo(new String[] {STARTED, PROGRESS, FINISHED, FAILED},
                    Notification.class.getName(), "start, progress and end of a revert or delete (merge)"),
            new MBeanNotificationInfo(new String[] {SCHEDULE_RAN}, Notification.class.getName(),
                    "a schedule's run ended: its summary")};

    /** Parameter names and descriptions JConsole shows, per operation. */
    private static final Map<String, String[][]> PARAMETERS = Map.ofEntries(
            Map.entry("createSnapshot", createParams()),
            Map.entry("createSnapshotWithMemory", createParams()),
            Map.entry("createSnapshotWithQuiesce", withQuiesce(createParams())),
            Map.entry("revertSnapshot", new String[][] {domainParam(), nameParam("the snapshot to go back to")}),
            Map.entry("revertSnapshotAndRestart", new String[][] {domainParam(),
                    nameParam("the disk-only snapshot to go back to")}),
            Map.entry("deleteSnapshot", new String[][] {domainParam(), nameParam("the snapshot to delete")}),
            Map.entry("listSnapshots", new String[][] {domainParam()}),
            Map.entry("getSnapshot", new String[][] {domainParam(), nameParam("the snapshot")}),
            Map.entry("getDomainConfig", new String[][] {domainParam(), nameParam("the snapshot")}),
            Map.entry("reconcile", new String[][] {domainParam()}),
            Map.entry("runSchedule", new String[][] {{"name", "the schedule's name (see the attribute Schedules)"}}));

    private static final Map<String, String> OPERATIONS = Map.ofEntries(
            Map.entry("createSnapshot", "Snapshots the disks of a domain, all at once. Returns the new snapshot."),
            Map.entry("createSnapshotWithMemory", "Snapshots a RUNNING domain's memory and its disks at one instant"
                    + " (a domain snapshot): a revert to it resumes the domain. Returns the new snapshot."),
            Map.entry("createSnapshotWithQuiesce", "As createSnapshot, freezing the guest's file systems through its"
                    + " agent for the disks' transaction (never, try or require)."),
            Map.entry("revertSnapshot", "Brings the disks of a SHUT-OFF domain back to a snapshot, or a whole domain"
                    + " back running to a snapshot with memory. Returns the image each disk must be started from (runs"
                    + " on)."),
            Map.entry("revertSnapshotAndRestart", "Destroys the domain if it runs, brings its disks back to a disk-only"
                    + " snapshot and boots it again from the config the snapshot kept. Returns the image each disk"
                    + " runs on."),
            Map.entry("deleteSnapshot", "Deletes a snapshot; external ones are merged, so the domain's data stays as"
                    + " it is."),
            Map.entry("listSnapshots", "Lists the snapshots of a domain and the space each holds; 'parent' gives the"
                    + " tree."),
            Map.entry("getSnapshot", "Shows one snapshot, its disks and the space it holds on each."),
            Map.entry("getDomainConfig", "libxl's config of the domain (JSON) as it was when the snapshot was taken;"
                    + " empty when the snapshot keeps none (taken of a shut-off domain)."),
            Map.entry("reconcile", "After a crash: checks one domain, finishes or rolls back an interrupted create or"
                    + " delete where the disks prove the outcome, and reports the rest. One line per finding; 'clean'"
                    + " when all agree."),
            Map.entry("reconcileAll", "As reconcile, for every domain with a snapshot catalog."),
            Map.entry("runSchedule", "Runs a schedule now and returns its summary; its next time stays as it was."));

    private final SnapshotOperations snapshots;
    private final ObjectName name;
    private final AtomicLong sequence = new AtomicLong();
    private final Consumer<RunResult> ran = this::ran;

    // Not final: SCR binds and unbinds it while the MBean is registered (optional, dynamic, greedy).
    private volatile ScheduleService schedules;

    @Activate
    public SnapshotsMBeanImpl(@Reference(name = "snapshots") SnapshotOperations snapshots) {
        super(SnapshotsMBean.class, false, new NotificationBroadcasterSupport(NOTIFICATIONS));
        this.snapshots = snapshots;
        try {
            this.name = new ObjectName(OBJECT_NAME);
        } catch (MalformedObjectNameException e) {
            throw new IllegalStateException(OBJECT_NAME, e);
        }
    }

    @Override
    public CompositeData createSnapshot(String domain, String name, String description, String disks)
            throws MBeanException {
        return call(() -> {
            SnapshotRequest request = UserInput.request(domain, name, description, disks);
            return JmxSnapshots.snapshot(snapshots.create(request), true);
        });
    }

    @Override
    public CompositeData createSnapshotWithMemory(String domain, String name, String description, String disks)
            throws MBeanException {
        return call(() -> {
            SnapshotRequest request = UserInput.request(domain, name, description, disks, true);
            return JmxSnapshots.snapshot(snapshots.create(request), true);
        });
    }

    @Override
    public CompositeData createSnapshotWithQuiesce(String domain, String name, String description, String disks,
                                                   String quiesce) throws MBeanException {
        return call(() -> {
            SnapshotRequest request = UserInput.request(domain, name, description, disks, quiesce);
            return JmxSnapshots.snapshot(snapshots.create(request), true);
        });
    }

    @Override
    public TabularData revertSnapshot(String domain, String name) throws MBeanException {
        return revert(domain, name, false);
    }

    @Override
    public TabularData revertSnapshotAndRestart(String domain, String name) throws MBeanException {
        return revert(domain, name, true);
    }

    private TabularData revert(String domain, String name, boolean restart) throws MBeanException {
        return call(() -> {
            DomainRef ref = UserInput.domain(domain);
            String snapshot = UserInput.snapshotName(name);
            Watch watch = new Watch("revert", domain, snapshot);
            watch.started();
            try {
                RevertResult result = restart ? snapshots.revertAndRestart(ref, snapshot, watch)
                        : snapshots.revert(ref, snapshot, watch);
                watch.finished();
                return JmxSnapshots.images(result.disks());
            } catch (SnapshotException e) {
                watch.failed(e);
                throw e;
            }
        });
    }

    @Override
    public void deleteSnapshot(String domain, String name) throws MBeanException {
        call(() -> {
            DomainRef ref = UserInput.domain(domain);
            String snapshot = UserInput.snapshotName(name);
            Watch watch = new Watch("delete", domain, snapshot);
            watch.started();
            try {
                snapshots.delete(ref, snapshot, watch);
                watch.finished();
                return null;
            } catch (SnapshotException e) {
                watch.failed(e);
                throw e;
            }
        });
    }

    @Override
    public TabularData listSnapshots(String domain) throws MBeanException {
        return call(() -> {
            DomainRef ref = UserInput.domain(domain);
            return JmxSnapshots.snapshots(snapshots.list(ref), snapshots.space(ref));
        });
    }

    @Override
    public String getDomainConfig(String domain, String name) throws MBeanException {
        return call(() -> snapshots.domainConfig(UserInput.domain(domain), UserInput.snapshotName(name)).orElse(""));
    }

    @Override
    public CompositeData getSnapshot(String domain, String name) throws MBeanException {
        return call(() -> {
            DomainRef ref = UserInput.domain(domain);
            String snapshot = UserInput.snapshotName(name);
            SnapshotTree tree = snapshots.list(ref);
            SnapshotInfo info = tree.get(snapshot).orElseThrow(() -> new SnapshotException(
                    SnapshotError.NO_SUCH_SNAPSHOT, "domain " + tree.domainUuid() + " has no snapshot named "
                    + snapshot));
            Optional<SnapshotSpace> space = snapshots.space(ref).stream()
                    .filter(sp -> sp.snapshot().equals(snapshot)).findFirst();
            return JmxSnapshots.snapshot(info, snapshot.equals(tree.current()), space);
        });
    }

    @Override
    public String[] reconcile(String domain) throws MBeanException {
        return call(() -> ReconcileLines.of(snapshots.reconcile(UserInput.domain(domain))).toArray(String[]::new));
    }

    @Override
    public String[] reconcileAll() throws MBeanException {
        return call(() -> ReconcileLines.of(snapshots.reconcileAll()).toArray(String[]::new));
    }

    @Override
    public String[] getSchedules() {
        ScheduleService s = schedules;
        return s == null ? new String[0]
                : s.statuses().stream().map(ScheduleLines::line).map(Visible::text).toArray(String[]::new);
    }

    @Override
    public String runSchedule(String name) throws MBeanException {
        return call(() -> {
            ScheduleService s = schedules;
            if (s == null) {
                throw new SnapshotException(SnapshotError.INVALID_STATE, "the schedules are not running");
            }
            return Visible.text(s.runNow(name == null ? "" : name).summary());
        });
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindSchedules")
    public void bindSchedules(ScheduleService s) {
        s.listen(ran);
        schedules = s;
    }

    public void unbindSchedules(ScheduleService s) {
        s.unlisten(ran);
        if (schedules == s) {
            schedules = null;
        }
    }

    private void ran(RunResult r) {
        Notification n = new Notification(SCHEDULE_RAN, name, sequence.incrementAndGet(), System.currentTimeMillis(),
                Visible.text("schedule " + r.schedule() + ": " + r.summary()));
        n.setUserData(r.schedule());
        sendNotification(n);
    }

    /**
     * The JMX introspector wraps an {@code MBeanException} thrown by an operation into another one whose message is
     * the inner one's {@code toString()}; unwrapping it keeps the client's message exactly {@code [CODE] message}.
     */
    @Override
    public Object invoke(String actionName, Object[] params, String[] signature)
            throws MBeanException, ReflectionException {
        try {
            return super.invoke(actionName, params, signature);
        } catch (MBeanException e) {
            if (e.getCause() instanceof MBeanException inner) {
                throw inner;
            }
            throw e;
        }
    }

    @Override
    protected String getDescription(MBeanInfo info) {
        return "xensnap: disk snapshots of Xen domains. A domain is its domid while it runs, its uuid while it is"
                + " shut off. Errors read [CODE] message.";
    }

    @Override
    protected String getDescription(MBeanOperationInfo op) {
        return OPERATIONS.getOrDefault(op.getName(), op.getDescription());
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        String[][] p = PARAMETERS.get(op.getName());
        return p != null && sequence < p.length ? p[sequence][0] : param.getName();
    }

    @Override
    protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        String[][] p = PARAMETERS.get(op.getName());
        return p != null && sequence < p.length ? p[sequence][1] : param.getDescription();
    }

    @Override
    protected int getImpact(MBeanOperationInfo info) {
        return info.getName().startsWith("list") || info.getName().startsWith("get") ? MBeanOperationInfo.INFO
                : MBeanOperationInfo.ACTION;
    }

    private static String[][] createParams() {
        return new String[][] {domainParam(), nameParam("the new snapshot's name: 1 to 64 of"
                + " A-Z a-z 0-9 . _ - (not all digits, not starting with . or -)"),
                {"description", "free text, may be empty"},
                {"disks", "empty: every writable disk (internal for qcow2, an overlay beside the image for raw);"
                        + " or e.g. xvda:internal,xvdb:external,xvdc:external:/var/lib/xen/images/c.qcow2"}};
    }

    private static String[][] withQuiesce(String[][] params) {
        String[][] all = java.util.Arrays.copyOf(params, params.length + 1);
        all[params.length] = new String[] {"quiesce", "never, try or require: freeze the guest's file systems through"
                + " its agent for the disks' transaction; empty for the configured default"};
        return all;
    }

    private static String[] domainParam() {
        return new String[] {"domain", "the domid of a running domain (e.g. 7), or the uuid of a shut-off one"};
    }

    private static String[] nameParam(String description) {
        return new String[] {"name", description};
    }

    @FunctionalInterface
    private interface Call<T> {
        T run() throws SnapshotException;
    }

    /**
     * Only JDK classes may reach the client: the message carries the code, the cause stays here. The message quotes
     * peers and files, so it is escaped like everything else the client prints.
     */
    private static <T> T call(Call<T> call) throws MBeanException {
        try {
            return call.run();
        } catch (SnapshotException e) {
            throw failure(Visible.text(e.codedMessage()));
        } catch (RuntimeException e) {
            // a defect: its stack trace cannot travel to the client, so it is kept in the log
            LOG.error("snapshots MBean: unexpected failure", e);
            throw failure(Visible.text("[" + SnapshotError.INTERNAL + "] " + e));
        }
    }

    /**
     * The target is a plain {@code java.lang.Exception} with the same text and no stack trace: Jolokia reports an
     * MBeanException by its target and fails with a NullPointerException on one without (the code would be lost over
     * HTTP/JSON), and a JMX client still needs no xensnap class.
     */
    private static MBeanException failure(String text) {
        Exception target = new Exception(text);
        target.setStackTrace(new StackTraceElement[0]);
        return new MBeanException(target, text);
    }

    /** Sends the notifications of one long operation. */
    private final class Watch implements Progress {
        private final String operation;
        private final String domain;
        private final String snapshot;

        Watch(String operation, String domain, String snapshot) {
            this.operation = operation;
            this.domain = domain;
            this.snapshot = snapshot;
        }

        void started() {
            send(STARTED, operation + " of snapshot " + snapshot + " on domain " + domain + " started", "", 0, 0,
                    Unit.DISKS, "");
        }

        @Override
        public void report(String step, long done, long total, Unit unit) {
            String shown = Visible.text(step);
            send(PROGRESS, operation + " of snapshot " + snapshot + " on domain " + domain + ": " + shown + " "
                    + done + "/" + total + " " + unit.name().toLowerCase(Locale.ROOT), shown, done, total, unit, "");
        }

        void finished() {
            send(FINISHED, operation + " of snapshot " + snapshot + " on domain " + domain + " finished", "", 0, 0,
                    Unit.DISKS, "");
        }

        void failed(SnapshotException e) {
            String error = Visible.text(e.codedMessage());
            send(FAILED, operation + " of snapshot " + snapshot + " on domain " + domain + " failed: " + error, "", 0,
                    0, Unit.DISKS, error);
        }

        private void send(String type, String message, String step, long done, long total, Unit unit,
                          String error) {
            Notification n = new Notification(type, name, sequence.incrementAndGet(), System.currentTimeMillis(),
                    message);
            n.setUserData(JmxSnapshots.operation(operation, domain, snapshot, step, done, total,
                    unit.name().toLowerCase(Locale.ROOT), error));
            sendNotification(n);
        }
    }
}
