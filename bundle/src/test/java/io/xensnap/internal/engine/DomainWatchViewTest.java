package io.xensnap.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.xensnap.harness.Dom0Fixture;
import io.xensnap.harness.RealXenstored;
import io.xensnap.harness.RealXenstored.Profile;
import io.xensnap.harness.XenHost;
import io.xensnap.harness.XenHost.Backend;
import io.xensnap.harness.XenHost.Disk;
import io.xensnap.harness.XenHost.Format;
import io.xensnap.internal.xenstore.CountingXenstore;
import io.xensnap.internal.xenstore.DomainDisks;
import io.xensnap.internal.xenstore.RunningDomain;
import io.xensnap.internal.xenstore.XenstoreClient;

/**
 * The domain view against a real xenstored laid out as libxl does it: what it keeps, what it reads again, and that no
 * answer is older than the request that got it. Requests are counted on the connections' side (every request sent).
 */
// The XenHost in try-with-resources is the layout the test reads; closing it is all the body needs of it.
@SuppressWarnings("try")
class DomainWatchViewTest {

    private static final int DOMID = 7;
    private static final String UUID = "6f1c2a3b-4d5e-4f60-8172-8394a5b6c7d8";
    private static final String OTHER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Disk XVDA = Disk.of("xvda", Backend.QDISK, Format.QCOW2, Path.of("/images/web-1.qcow2"));
    private static final Disk XVDB = Disk.of("xvdb", Backend.QDISK, Format.RAW, Path.of("/images/web-1-data.img"));

    private static XenHost host(RealXenstored xs, String uuid) {
        return XenHost.builder(xs).domid(DOMID).name("web-1").uuid(uuid).disk(XVDA).disk(XVDB).build();
    }

    private static RunningDomain direct(RealXenstored xs) throws Exception {
        try (XenstoreClient client = XenstoreClient.connect(xs.socketPath(), "direct", TIMEOUT)) {
            return new DomainDisks(client).running(DOMID);
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aKeptDomainIsServedAgainAfterOneBarrierRead(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID)) {
            CountingXenstore counted = new CountingXenstore(xs.socketPath(), TIMEOUT);
            try (DomainWatchView view = new DomainWatchView(counted::open)) {
                RunningDomain first = view.facts(DOMID).orElseThrow();
                assertThat(first).isEqualTo(direct(xs));
                assertThat(first.domain().uuid()).isEqualTo(UUID);
                counted.takeSent();

                assertThat(view.facts(DOMID)).contains(first);
                assertThat(counted.takeSent()).containsExactly("READ /local/domain/" + DOMID + "/vm");
                assertThat(counted.opened()).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aDiskChangedInXenstoreBetweenTwoRequestsIsSeenByTheNext(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID);
             DomainWatchView view = new DomainWatchView(() -> XenstoreClient.connect(xs.socketPath(), "v", TIMEOUT))) {
            view.facts(DOMID).orElseThrow();
            // as xl block-attach / a disk swap by another tool writes it
            host.cli().write(XenHost.backendPath(DOMID, XVDA) + "/params", "qcow2:/images/web-1.s1.qcow2");

            RunningDomain after = view.facts(DOMID).orElseThrow();
            assertThat(after.disks().get(0).target()).isEqualTo("/images/web-1.s1.qcow2");
            assertThat(after).isEqualTo(direct(xs));

            // a change to a node the read does not use keeps the entry
            host.cli().write("/local/domain/" + DOMID + "/memory/target", "524288",
                    XenHost.backendPath(DOMID, XVDA) + "/state", "4",
                    XenHost.frontendPath(DOMID, XVDA) + "/state", "4");
            assertThat(view.facts(DOMID)).contains(after);
            assertThat(view.size()).isEqualTo(1);
        }
    }

    /*
     * The listener runs on the connection's event thread, behind whatever listener runs before it: here one that takes
     * its time over an unrelated node written just before the disk. The reply to the barrier read comes at once; only
     * waiting for the listeners keeps the request from finding the entry the disk's event has not dropped yet.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aChangeWhoseEventIsStillQueuedBehindASlowListenerIsSeen(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID)) {
            CountingXenstore counted = new CountingXenstore(xs.socketPath(), TIMEOUT);
            try (DomainWatchView view = new DomainWatchView(counted::open)) {
                view.facts(DOMID).orElseThrow();
                String slow = "/local/domain/" + DOMID + "/data/slow";
                counted.lastOpened().watch(slow, e -> {
                    if (e.path().equals(slow)) {
                        sleep(Duration.ofMillis(700));
                    }
                });
                host.cli().write(slow, "1");
                host.cli().write(XenHost.backendPath(DOMID, XVDA) + "/params", "qcow2:/images/web-1.s3.qcow2");

                RunningDomain after = view.facts(DOMID).orElseThrow();
                assertThat(after.disks().get(0).target()).isEqualTo("/images/web-1.s3.qcow2");
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /* A snapshot's own swap of a disk changes the domain: it is read again at once, not by the next request. */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void aKeptDomainThatChangedIsReadAgainBeforeTheNextRequest(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID)) {
            CountingXenstore counted = new CountingXenstore(xs.socketPath(), TIMEOUT);
            try (DomainWatchView view = new DomainWatchView(counted::open)) {
                view.facts(DOMID).orElseThrow();
                counted.takeSent();
                host.cli().write(XenHost.backendPath(DOMID, XVDA) + "/params", "qcow2:/images/web-1.s4.qcow2");
                // the event drops the entry before the read again starts; kept again once that read is done
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!counted.takeSent().contains("TRANSACTION_START ")) {
                    assertThat(System.nanoTime()).as("the domain was read again").isLessThan(deadline);
                    sleep(Duration.ofMillis(10));
                }
                while (view.size() == 0) {
                    assertThat(System.nanoTime()).as("the domain was kept again").isLessThan(deadline);
                    sleep(Duration.ofMillis(10));
                }
                counted.takeSent();

                RunningDomain after = view.facts(DOMID).orElseThrow();
                assertThat(after.disks().get(0).target()).isEqualTo("/images/web-1.s4.qcow2");
                assertThat(counted.takeSent()).containsExactly("READ /local/domain/" + DOMID + "/vm");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aDomidDestroyedAndGivenToAnotherDomainIsReadAsTheNewDomain(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost old = host(xs, UUID);
             DomainWatchView view = new DomainWatchView(() -> XenstoreClient.connect(xs.socketPath(), "v", TIMEOUT))) {
            assertThat(view.facts(DOMID).orElseThrow().domain().uuid()).isEqualTo(UUID);

            Dom0Fixture.removeDomainNodes(old.cli(), DOMID, UUID);
            try (XenHost reborn = XenHost.builder(xs).domid(DOMID).name("other").uuid(OTHER).disk(XVDB).build()) {
                RunningDomain now = view.facts(DOMID).orElseThrow();
                assertThat(now.domain().uuid()).isEqualTo(OTHER);
                assertThat(now.domain().name()).isEqualTo("other");
                assertThat(now.disks()).extracting(d -> d.vdev()).containsExactly("xvdb");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void aLostWatchConnectionIsReopenedAndNothingKeptBeforeIsTrusted(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID)) {
            CountingXenstore counted = new CountingXenstore(xs.socketPath(), TIMEOUT);
            try (DomainWatchView view = new DomainWatchView(counted::open)) {
                view.facts(DOMID).orElseThrow();
                counted.cutAll();
                // changed while nobody watches: no event will ever say so
                host.cli().write(XenHost.backendPath(DOMID, XVDA) + "/params", "qcow2:/images/web-1.s2.qcow2");

                // the request that finds the connection gone gets no answer from the view: the caller reads itself
                Optional<RunningDomain> duringLoss = view.facts(DOMID);
                if (duringLoss.isPresent()) {
                    assertThat(duringLoss.get()).isEqualTo(direct(xs));
                }
                RunningDomain after = view.facts(DOMID).orElseThrow();
                assertThat(after.disks().get(0).target()).isEqualTo("/images/web-1.s2.qcow2");
                assertThat(counted.opened()).isEqualTo(2);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Profile.class)
    void withXenstoredGoneTheViewAnswersNothingAndComesBackWithIt(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID)) {
            Path socket = xs.socketPath();
            try (DomainWatchView view = new DomainWatchView(() -> XenstoreClient.connect(socket, "v", TIMEOUT))) {
                view.facts(DOMID).orElseThrow();
                xs.kill();
                assertThat(view.facts(DOMID)).isEmpty();
                assertThat(view.facts(DOMID)).isEmpty();
                assertThat(view.size()).isZero();
            }
        }
    }

    /*
     * A writer moves xvda through /images/g<n>.qcow2 for n = 1, 2, ... (each write done before n is published) while
     * requests run in a loop. A request that starts after write n completed must not see anything older than n: that
     * state no longer existed anywhere after the request started.
     */
    @ParameterizedTest
    @EnumSource(Profile.class)
    void noRequestSeesADiskOlderThanTheLastChangeMadeBeforeItStarted(Profile p) throws Exception {
        try (RealXenstored xs = RealXenstored.start(p); XenHost host = host(xs, UUID);
             DomainWatchView view = new DomainWatchView(() -> XenstoreClient.connect(xs.socketPath(), "v", TIMEOUT));
             XenstoreClient writer = XenstoreClient.connect(xs.socketPath(), "writer", TIMEOUT)) {
            String params = XenHost.backendPath(DOMID, XVDA) + "/params";
            AtomicLong written = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> writerFailed = new AtomicReference<>();
            Thread w = new Thread(() -> {
                try {
                    for (long n = 1; !stop.get(); n++) {
                        writer.write(params, "qcow2:/images/g" + n + ".qcow2");
                        written.set(n);
                    }
                } catch (Throwable t) {
                    writerFailed.set(t);
                }
            }, "params-writer");
            w.start();
            List<String> stale = new ArrayList<>();
            int answered = 0;
            // 4 s, and then on until 20 requests were answered: on a loaded machine the view, read again after
            // every change, answers few of them (bounded by 60 s)
            long start = System.nanoTime();
            long least = start + Duration.ofSeconds(4).toNanos();
            long most = start + Duration.ofSeconds(60).toNanos();
            try {
                while (System.nanoTime() < most && (System.nanoTime() < least || answered <= 20)) {
                    long before = written.get();
                    Optional<RunningDomain> seen = view.facts(DOMID);
                    if (seen.isEmpty()) {
                        continue;
                    }
                    answered++;
                    String target = seen.get().disks().get(0).target();
                    long n = target.startsWith("/images/g")
                            ? Long.parseLong(target.substring("/images/g".length(), target.indexOf(".qcow2"))) : 0;
                    if (n < before) {
                        stale.add("saw " + n + " after " + before + " was written");
                    }
                }
            } finally {
                stop.set(true);
                w.join(10_000);
            }
            assertThat(writerFailed.get()).isNull();
            assertThat(written.get()).as("the writer kept changing the disk").isGreaterThan(20);
            assertThat(answered).isGreaterThan(20);
            assertThat(stale).isEmpty();
            // once the writer stopped, the view settles on the last value and keeps it
            RunningDomain settled = view.facts(DOMID).orElseThrow();
            assertThat(settled.disks().get(0).target()).isEqualTo("/images/g" + written.get() + ".qcow2");
            assertThat(view.facts(DOMID)).contains(settled);
            assertThat(view.size()).isEqualTo(1);
        }
    }
}
