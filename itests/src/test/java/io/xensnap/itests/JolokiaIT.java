package io.xensnap.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.ConfigurationAdmin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.xensnap.api.DiskSnapshotProvider;
import io.xensnap.api.DomainRef;
import io.xensnap.api.SnapshotInfo;
import io.xensnap.harness.RealXenstored;

/**
 * The MBean over HTTP/JSON: feature {@code xensnap-http} in a stock Karaf, a plain {@code java.net.http} client
 * speaking Jolokia's protocol to {@code http://127.0.0.1:<port>/jolokia}. Users log in against Karaf's JAAS realm;
 * Karaf's JMX ACL decides what they may do, as over JMX: an admin lists and creates, a viewer lists and is refused a
 * create, and nothing changes.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class JolokiaIT {

    private static final TestDomain GUEST = new TestDomain(41, "by-http");
    private static final String MBEAN = "io.xensnap:type=snapshots";
    private static final String PORT = "xensnap.httpPort";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    private DiskSnapshotProvider snapshots;

    @Inject
    private ConfigurationAdmin configurations;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Configuration
    public Option[] config() {
        List<Option> o = KarafOptions.base();
        o.addAll(HostPeers.start(JolokiaIT.class, RealXenstored.Profile.CXENSTORED, GUEST).options());
        String port = Integer.toString(KarafOptions.freePort());
        // Karaf's default 8181 may be taken by another build or a running demo
        o.add(editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", port));
        o.add(systemProperty(PORT).value(port));
        o.add(features(KarafOptions.xensnapFeatures(), "xensnap-http"));
        return o.toArray(new Option[0]);
    }

    @Before
    public void awaitJolokia() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            portOfThisTest();
            try {
                if (send(get("/version"), null).statusCode() == 401) {
                    return;
                }
            } catch (ConnectException e) {
                // the HTTP service or Jolokia's servlet is not there yet
            }
            if (System.nanoTime() > deadline) {
                fail("Jolokia did not answer on port " + port() + " within 60 s");
            }
            Thread.sleep(250);
        }
    }

    @Test
    public void anAdminListsAndCreatesAViewerListsAndIsRefusedACreate() throws Exception {
        String domid = Integer.toString(GUEST.domid());

        JsonNode created = exec(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD, "createSnapshot",
                domid, "over-http", "by Jolokia", "");
        assertEquals(created.toString(), 200, created.path("status").asInt());
        assertEquals("over-http", created.path("value").path("name").asText());
        assertEquals("by Jolokia", created.path("value").path("description").asText());
        assertEquals(List.of("over-http"), names());
        assertEquals(List.of("over-http"), Dom0.fromSystemProperties().liveSnapshots(GUEST, TestDomain.QCOW2));

        JsonNode adminList = exec(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD, "listSnapshots", domid);
        assertEquals(adminList.toString(), 200, adminList.path("status").asInt());
        assertTrue(adminList.toString(), adminList.path("value").toString().contains("\"over-http\""));

        // an xensnap error comes back with the MBean's "[CODE] message", and changes nothing
        JsonNode again = exec(KarafOptions.ADMIN, KarafOptions.ADMIN_PASSWORD, "createSnapshot",
                domid, "over-http", "", "");
        assertEquals(again.toString(), 500, again.path("status").asInt());
        assertTrue(again.toString(),
                again.path("error").asText().startsWith("java.lang.Exception : [SNAPSHOT_EXISTS] "));
        assertEquals(List.of("over-http"), names());

        JsonNode viewerList = exec(KarafOptions.VIEWER, KarafOptions.VIEWER_PASSWORD, "listSnapshots", domid);
        assertEquals(viewerList.toString(), 200, viewerList.path("status").asInt());
        // the same snapshots; only the time their space was read differs between two lists
        assertEquals(withoutReadTimes(adminList.path("value")), withoutReadTimes(viewerList.path("value")));

        HttpResponse<String> refused = send(post(execBody("createSnapshot", domid, "viewer-was-here", "", "")),
                KarafOptions.VIEWER + ":" + KarafOptions.VIEWER_PASSWORD);
        // Jolokia answers HTTP 200 and puts the request's status in the JSON reply
        assertEquals(refused.body(), 200, refused.statusCode());
        JsonNode denial = JSON.readTree(refused.body());
        assertEquals(refused.body(), 403, denial.path("status").asInt());
        // Jolokia turns the restrictor's refusal into a plain Exception with this text
        assertEquals(refused.body(), "java.lang.Exception : Operation createSnapshot forbidden for MBean " + MBEAN,
                denial.path("error").asText());
        assertTrue("no stack trace in a reply: " + refused.body(), denial.path("stacktrace").isMissingNode());
        assertEquals("nothing created", List.of("over-http"), names());
        assertEquals(List.of("over-http"), Dom0.fromSystemProperties().liveSnapshots(GUEST, TestDomain.QCOW2));

        // an attribute read is decided by the same ACL: getSchedules = viewer
        HttpResponse<String> read = send(post("{\"type\":\"read\",\"mbean\":\"" + MBEAN
                + "\",\"attribute\":\"Schedules\"}"), KarafOptions.VIEWER + ":" + KarafOptions.VIEWER_PASSWORD);
        assertEquals(read.body(), 200, JSON.readTree(read.body()).path("status").asInt());
    }

    @Test
    public void withoutValidCredentialsNothingIsAnswered() throws Exception {
        String body = execBody("listSnapshots", Integer.toString(GUEST.domid()));
        HttpResponse<String> none = send(post(body), null);
        assertEquals(none.body(), 401, none.statusCode());
        assertTrue(none.headers().toString(), none.headers().firstValue("WWW-Authenticate").orElse("")
                .toLowerCase(Locale.ROOT).startsWith("basic"));
        assertFalse(none.body(), none.body().contains("\"value\""));
        HttpResponse<String> wrong = send(post(body), KarafOptions.ADMIN + ":not-the-password");
        assertEquals(wrong.body(), 401, wrong.statusCode());
        HttpResponse<String> getWithout = send(get("/exec/" + MBEAN + "/listSnapshots/" + GUEST.domid()), null);
        assertEquals(getWithout.body(), 401, getWithout.statusCode());
    }

    @Test
    public void aManagerCannotWriteXensnapsConfigurationThroughKarafsConfigMBean() throws Exception {
        // Karaf's ACL lets a manager call setProperty on some PIDs, decided by the arguments, which Jolokia's
        // restrictor never sees: over HTTP, operations of MBeans outside io.xensnap are refused to everybody
        String before = String.valueOf(configurations.getConfiguration("io.xensnap", null).getProperties()
                .get("qemu.img"));
        String body = "{\"type\":\"exec\",\"mbean\":\"org.apache.karaf:type=config,name="
                + System.getProperty("karaf.name") + "\","
                + "\"operation\":\"setProperty(java.lang.String,java.lang.String,java.lang.String)\","
                + "\"arguments\":[\"io.xensnap\",\"qemu.img\",\"/bin/false\"]}";
        for (String user : List.of(KarafOptions.MANAGER + ":" + KarafOptions.MANAGER_PASSWORD,
                KarafOptions.ADMIN + ":" + KarafOptions.ADMIN_PASSWORD)) {
            HttpResponse<String> r = send(post(body), user);
            assertEquals(r.body(), 403, JSON.readTree(r.body()).path("status").asInt());
        }
        assertEquals(before, String.valueOf(configurations.getConfiguration("io.xensnap", null).getProperties()
                .get("qemu.img")));
    }

    @Test
    public void aBrowserPageIsRefusedAndTheServiceListensOnLoopbackOnly() throws Exception {
        HttpRequest fromPage = HttpRequest.newBuilder(URI.create(base() + "/"))
                .header("Authorization", basic(KarafOptions.ADMIN + ":" + KarafOptions.ADMIN_PASSWORD))
                .header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString(execBody("createSnapshot",
                        Integer.toString(GUEST.domid()), "from-a-page", "", "")))
                .build();
        HttpResponse<String> r = http.send(fromPage, HttpResponse.BodyHandlers.ofString());
        assertFalse(r.body(), r.statusCode() == 200 && JSON.readTree(r.body()).path("status").asInt() == 200);
        assertFalse(names().contains("from-a-page"));

        List<String> listeners = listeners(Integer.parseInt(port()));
        assertFalse("something listens on the port", listeners.isEmpty());
        for (String address : listeners) {
            assertTrue("listens on " + address, address.equals("0100007F")
                    || address.equals("0000000000000000FFFF00000100007F"));
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * At boot, Pax Exam's etc/org.ops4j.pax.web.cfg (this test's port) and the feature's Pax Web block (8181) race for
     * the PID: when Felix FileInstall reads the file after the features are installed, the feature's port wins. Then
     * the port is set here (Pax Web moves Jetty), the other keys as they are, so that the test never talks to whatever
     * else listens on 8181.
     */
    private void portOfThisTest() throws IOException {
        org.osgi.service.cm.Configuration web = configurations.getConfiguration("org.ops4j.pax.web", null);
        java.util.Dictionary<String, Object> p = web.getProperties();
        if (p != null && !port().equals(String.valueOf(p.get("org.osgi.service.http.port")))) {
            p.put("org.osgi.service.http.port", port());
            web.update(p);
        }
    }

    private JsonNode exec(String user, String password, String operation, String... args) throws Exception {
        HttpResponse<String> r = send(post(execBody(operation, args)), user + ":" + password);
        assertEquals(r.body(), 200, r.statusCode());
        return JSON.readTree(r.body());
    }

    private static String execBody(String operation, String... args) {
        ObjectNode body = JSON.createObjectNode();
        body.put("type", "exec");
        body.put("mbean", MBEAN);
        body.put("operation", operation);
        var arguments = body.putArray("arguments");
        for (String a : args) {
            arguments.add(a);
        }
        return body.toString();
    }

    private HttpRequest.Builder post(String json) {
        return HttpRequest.newBuilder(URI.create(base() + "/")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
    }

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(URI.create(base() + path)).GET();
    }

    private HttpResponse<String> send(HttpRequest.Builder request, String userColonPassword)
            throws IOException, InterruptedException {
        if (userColonPassword != null) {
            request.header("Authorization", basic(userColonPassword));
        }
        return http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    private static String port() {
        return System.getProperty(PORT);
    }

    private static String base() {
        return "http://127.0.0.1:" + port() + "/jolokia";
    }

    private List<String> names() throws Exception {
        return snapshots.list(DomainRef.running(GUEST.domid())).snapshots().stream().map(SnapshotInfo::name).toList();
    }

    /** @return the local addresses (hex, as the kernel writes them) of the TCP sockets listening on the port */
    private static List<String> listeners(int port) throws IOException {
        List<String> out = new ArrayList<>();
        String hexPort = String.format("%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p).subList(1, Files.readAllLines(p).size())) {
                String[] f = line.trim().split("\\s+");
                String[] local = f[1].split(":");
                // state 0A: LISTEN
                if (local[1].equals(hexPort) && f[3].equals("0A")) {
                    out.add(local[0]);
                }
            }
        }
        return out;
    }

    /** @return {@code list} (name to snapshot) with each snapshot's {@code spaceReadAt} taken out */
    private static JsonNode withoutReadTimes(JsonNode list) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = list.deepCopy();
        copy.forEach(snapshot -> ((com.fasterxml.jackson.databind.node.ObjectNode) snapshot).remove("spaceReadAt"));
        return copy;
    }
}
