package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.xensnap.api.DiskSnapshot;
import io.xensnap.api.DiskSpec;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotError;
import io.xensnap.api.SnapshotException;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.api.SnapshotKind;
import io.xensnap.api.SnapshotRequest;
import io.xensnap.api.SnapshotTree;
import io.xensnap.harness.RealXenstored;
import io.xensnap.internal.engine.create.CreatePlan;
import io.xensnap.internal.engine.reconcile.ReconcileReport;

/**
 * 100 requests at once, on one domain and spread over 8 domains (8 QEMUs): every request is answered, operations on
 * one domain never overlap, each is all or nothing, and afterwards the catalog, QEMU and the image headers agree.
 */
class ConcurrencyTest {

    /** The codes a request of this mix may legitimately end with, besides success. */
    private static final Set<SnapshotError> EXPECTED = EnumSet.of(SnapshotError.SNAPSHOT_EXISTS,
            SnapshotError.NO_SUCH_SNAPSHOT, SnapshotError.BUSY);

    private Dom0 dom0;
    private Overlap overlap;

    @BeforeEach
    void start() throws Exception {
        dom0 = new Dom0(RealXenstored.Profile.CXENSTORED);
    }

    @AfterEach
    void stop() {
        dom0.close();
    }

    @Test
    void aHundredRequestsOnOneDomain() throws Exception {
        dom0.domain(7);
        overlap = new Overlap(0);
        SnapshotEngine engine = dom0.engine(overlap, Duration.ofSeconds(60), Duration.ofSeconds(10));

        List<Outcome> outcomes = runAtOnce(requests(engine, List.of(7), 100));

        assertAnswered(outcomes);
        assertThat(overlap.maxPerDomain()).as("operations on one domain at once").isEqualTo(1);
        assertConsistent(engine, 7, outcomes);
    }

    @Test
    void aHundredRequestsOverEightDomains() throws Exception {
        List<Integer> domids = List.of(1, 2, 3, 4, 5, 6, 7, 8);
        dom0.domains(domids);
        overlap = new Overlap(20);
        SnapshotEngine engine = dom0.engine(overlap, Duration.ofSeconds(60), Duration.ofSeconds(10));

        List<Outcome> outcomes = runAtOnce(requests(engine, domids, 100));

        assertAnswered(outcomes);
        assertThat(overlap.maxPerDomain()).as("operations on one domain at once").isEqualTo(1);
        assertThat(overlap.maxOverall()).as("operations on different domains ran side by side").isGreaterThan(1);
        for (int d : domids) {
            assertConsistent(engine, d, outcomes);
        }
    }

    /** What one request was and how it ended. */
    private record Outcome(int domid, String op, String name, Optional<SnapshotError> code, Throwable unexpected) {
        boolean ok() {
            return code.isEmpty() && unexpected == null;
        }
    }

    /**
     * A mix per domain, round robin: creates (internal on xvda and xvdb; external on xvdc), the same name many times,
     * deletes and gets of names that may not exist yet, lists.
     */
    private static List<Callable<Outcome>> requests(SnapshotEngine engine, List<Integer> domids, int count) {
        List<Callable<Outcome>> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int domid = domids.get(i % domids.size());
            int k = i / domids.size();
            DomainRef dom = DomainRef.running(domid);
            switch (i % 10) {
                case 6 -> out.add(call(domid, "create", "dup", () -> engine.create(new SnapshotRequest(dom, "dup", "",
                        List.of(DiskSpec.internal("xvda"))))));
                case 7 -> out.add(call(domid, "create", "x" + k, () -> engine.create(new SnapshotRequest(dom, "x" + k,
                        "", List.of(DiskSpec.external("xvdc", null))))));
                case 8 -> out.add(call(domid, "delete", "c" + (k - 1), () -> engine.delete(dom, "c" + (k - 1))));
                case 9 -> out.add(call(domid, k % 2 == 0 ? "get" : "list", "c" + k, () -> {
                    if (k % 2 == 0) {
                        engine.get(dom, "c" + k);
                    } else {
                        engine.list(dom);
                    }
                }));
                default -> out.add(call(domid, "create", "c" + k, () -> engine.create(new SnapshotRequest(dom, "c" + k,
                        "", List.of(DiskSpec.internal("xvda"), DiskSpec.internal("xvdb"))))));
            }
        }
        return out;
    }

    private static Callable<Outcome> call(int domid, String op, String name, Faults.ThrowingCall call) {
        return () -> {
            try {
                call.run();
                return new Outcome(domid, op, name, Optional.empty(), null);
            } catch (SnapshotException e) {
                return new Outcome(domid, op, name, Optional.of(e.code()),
                        EXPECTED.contains(e.code()) ? null : e);
            } catch (Exception | Error e) {
                return new Outcome(domid, op, name, Optional.empty(), e);
            }
        };
    }

    private static List<Outcome> runAtOnce(List<Callable<Outcome>> requests) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(requests.size());
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Callable<Outcome> r : requests) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return r.call();
                }));
            }
            go.countDown();
            List<Outcome> out = new ArrayList<>();
            for (Future<Outcome> f : futures) {
                // a deadlock shows as a request that never returns
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static void assertAnswered(List<Outcome> outcomes) {
        assertThat(outcomes).hasSize(100);
        assertThat(outcomes).filteredOn(o -> o.unexpected() != null).as("requests that failed unexpectedly")
                .isEmpty();
        assertThat(outcomes).filteredOn(Outcome::ok).as("requests that succeeded").isNotEmpty();
    }

    /**
     * All or nothing, checked from outside: every snapshot the catalog lists is in QEMU and in the files, and no
     * request that failed left anything in QEMU or on disk; the tree is one chain (serialized creates each saw the
     * previous one as current); reconcile finds nothing.
     */
    private void assertConsistent(SnapshotEngine engine, int domid, List<Outcome> outcomes) throws Exception {
        DomainRef dom = DomainRef.running(domid);
        SnapshotTree tree = engine.list(dom);
        Set<String> listed = new LinkedHashSet<>();
        tree.snapshots().forEach(s -> listed.add(s.name()));
        List<Outcome> mine = outcomes.stream().filter(o -> o.domid() == domid).toList();
        Set<String> created = new LinkedHashSet<>();
        Set<String> deleted = new LinkedHashSet<>();
        mine.stream().filter(o -> o.ok() && o.op().equals("create")).forEach(o -> created.add(o.name()));
        mine.stream().filter(o -> o.ok() && o.op().equals("delete")).forEach(o -> deleted.add(o.name()));
        Set<String> expected = new LinkedHashSet<>(created);
        expected.removeAll(deleted);
        assertThat(listed).as("domain %d: created and not deleted", domid).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(mine.stream().filter(o -> o.op().equals("create") && o.name().equals("dup")).filter(Outcome::ok))
                .as("one create of the same name wins").hasSizeLessThanOrEqualTo(1);

        for (String vdev : List.of("xvda", "xvdb")) {
            Set<String> internal = new LinkedHashSet<>();
            for (SnapshotInfo s : tree.snapshots()) {
                s.disks().stream().filter(d -> d.vdev().equals(vdev) && d.kind() == SnapshotKind.INTERNAL)
                        .forEach(d -> internal.add(s.name()));
            }
            assertThat(dom0.internalSnapshots(domid, vdev)).as("domain %d %s in QEMU", domid, vdev)
                    .containsExactlyInAnyOrderElementsOf(internal);
        }
        List<Path> overlays = new ArrayList<>();
        for (SnapshotInfo s : tree.snapshots()) {
            s.disks().stream().filter(d -> d.kind() == SnapshotKind.EXTERNAL).map(DiskSnapshot::overlay)
                    .forEach(overlays::add);
        }
        List<String> chain = Dom0.chain(Path.of(dom0.rootFile(domid, "xvdc")));
        assertThat(chain).as("domain %d xvdc: one layer per external snapshot", domid).hasSize(overlays.size() + 1);
        overlays.forEach(o -> assertThat(chain).contains(o.toString()));
        Path dir = Path.of(dom0.rootFile(domid, "xvdc")).getParent();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().endsWith(".qcow2")
                    && p.getFileName().toString().startsWith("disk2.")).map(Path::toString))
                    .as("domain %d: no overlay a failed create left behind", domid)
                    .containsExactlyInAnyOrderElementsOf(overlays.stream().map(Path::toString).toList());
        }

        assertThat(tree.roots()).as("one chain").hasSizeLessThanOrEqualTo(1);
        for (SnapshotInfo s : tree.snapshots()) {
            assertThat(tree.children(s.name())).as("one chain").hasSizeLessThanOrEqualTo(1);
        }
        ReconcileReport r = engine.reconcile(dom);
        assertThat(r.lines()).as("domain %d reconcile", domid).isEmpty();
        Faults.assertViewsAgree(dom0, domid);
    }

    /** Counts operations between the transaction and the point of no return, per domain and overall. */
    private static final class Overlap implements EngineHooks {
        private final Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
        private final AtomicInteger overall = new AtomicInteger();
        private final AtomicInteger maxPerDomain = new AtomicInteger();
        private final AtomicInteger maxOverall = new AtomicInteger();
        private final long dwellMillis;

        /** @param dwellMillis how long each operation stays inside, so that others can arrive meanwhile */
        Overlap(long dwellMillis) {
            this.dwellMillis = dwellMillis;
        }

        @Override
        public void beforeTransaction(CreatePlan plan) throws Exception {
            enter(plan.domain().uuid());
        }

        @Override
        public void afterPointOfNoReturn(CreatePlan plan) {
            exit(plan.domain().uuid());
        }

        @Override
        public void beforeMerge(String domainUuid, String snapshot) throws Exception {
            enter(domainUuid);
        }

        @Override
        public void beforeDeleteCommit(String domainUuid, String snapshot) {
            exit(domainUuid);
        }

        private void enter(String uuid) throws InterruptedException {
            maxPerDomain.accumulateAndGet(inside.computeIfAbsent(uuid, k -> new AtomicInteger()).incrementAndGet(),
                    Math::max);
            maxOverall.accumulateAndGet(overall.incrementAndGet(), Math::max);
            Thread.sleep(dwellMillis);
        }

        private void exit(String uuid) {
            inside.get(uuid).decrementAndGet();
            overall.decrementAndGet();
        }

        int maxPerDomain() {
            return maxPerDomain.get();
        }

        int maxOverall() {
            return maxOverall.get();
        }
    }
}
