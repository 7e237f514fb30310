package io.xensnap.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.harness.Dom0Fixture;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.XenHost;
import io.xensnap.harness.XenstoreCli;

/**
 * The test dom0 seen from inside Karaf, through tools independent of xensnap: QMP by hand, the xenstore CLI,
 * qemu-img and qemu-io, and libxl's JSON file read directly.
 */
final class Dom0 {

    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);

    private final Path root;
    private final XenstoreCli xenstore;
    private final ObjectMapper json = new ObjectMapper();

    private Dom0(Path root, Path xenstored) {
        this.root = root;
        this.xenstore = new XenstoreCli(xenstored);
    }

    /** @return the dom0 the host started for this class (see {@link HostPeers}) */
    static Dom0 fromSystemProperties() {
        return new Dom0(Path.of(required(HostPeers.ROOT)), Path.of(required(HostPeers.XENSTORED)));
    }

    Path root() {
        return root;
    }

    Path image(TestDomain d, String vdev) {
        return d.image(root, vdev);
    }

    Path imageDir(TestDomain d) {
        return d.imageDir(root);
    }

    /** @return the files QEMU serves {@code vdev} from, top first */
    List<String> chain(TestDomain d, String vdev) throws IOException {
        List<String> files = new ArrayList<>();
        for (JsonNode img = inserted(d, vdev).path("image"); img.has("filename"); img = img.path("backing-image")) {
            files.add(img.get("filename").asText());
        }
        return files;
    }

    /** @return the internal snapshots QEMU sees in the top image of {@code vdev} */
    List<String> liveSnapshots(TestDomain d, String vdev) throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode s : inserted(d, vdev).path("image").path("snapshots")) {
            names.add(s.get("name").asText());
        }
        return names;
    }

    private JsonNode inserted(TestDomain d, String vdev) throws IOException {
        String reply = RawQmp.execute(qmpSocket(d), QMP_TIMEOUT, "{\"execute\":\"query-block\"}");
        for (JsonNode b : json.readTree(reply).path("return")) {
            if (b.path("qdev").asText().contains("/peripheral/" + vdev + "/")) {
                return b.path("inserted");
            }
        }
        throw new AssertionError("QEMU of domain " + d.domid() + " has no device " + vdev + ": " + reply);
    }

    /** @return the backend {@code params} node libxl wrote and xensnap keeps up to date */
    String params(TestDomain d, String vdev) {
        return xenstore.read(XenHost.backendPath(d.domid(), d.disk(root, vdev)) + "/params");
    }

    /** @return the disk's entry in libxl's stored domain config */
    JsonNode userdataDisk(TestDomain d, String vdev) throws IOException {
        Path file = root.resolve("var/lib/xen/userdata-d." + d.domid() + "." + d.uuid() + ".libxl-json");
        String text = Files.readString(file, StandardCharsets.UTF_8);
        // libxl writes a trailing NUL after the JSON
        JsonNode config = json.readTree(text.replace("\0", ""));
        for (JsonNode disk : config.path("disks")) {
            if (vdev.equals(disk.path("vdev").asText())) {
                return disk;
            }
        }
        throw new AssertionError("libxl's config of domain " + d.domid() + " has no disk " + vdev + ": " + text);
    }

    /** @return {@code qemu-img info --backing-chain} of an image no QEMU holds: the filenames, top first */
    List<String> offlineChain(Path image) throws IOException {
        List<String> files = new ArrayList<>();
        for (JsonNode layer : qemuImgInfo(image, true)) {
            files.add(layer.get("filename").asText());
        }
        return files;
    }

    /** @return the internal snapshots in an image no QEMU holds, as qemu-img lists them */
    List<String> offlineSnapshots(Path image) throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode s : qemuImgInfo(image, false).path("snapshots")) {
            names.add(s.get("name").asText());
        }
        return names;
    }

    private JsonNode qemuImgInfo(Path image, boolean chain) throws IOException {
        List<String> argv = new ArrayList<>(List.of(Prerequisite.QEMU_IMG.require().toString(), "info",
                "--output=json", "-U"));
        if (chain) {
            argv.add("--backing-chain");
        }
        argv.add(image.toString());
        return json.readTree(ShortCommand.run(Duration.ofSeconds(30), argv).orThrow().output());
    }

    /** @return whether the first MiB of the disk, read through its whole chain, is {@code pattern} */
    boolean hasPattern(Path image, RealQemu.Format format, int pattern) {
        return RealQemu.hasPattern(image, format, pattern);
    }

    /** Writes {@code pattern} over the first MiB of an image no QEMU holds, as the guest would have. */
    void write(Path image, RealQemu.Format format, int pattern) {
        ShortCommand.ok(Prerequisite.QEMU_IO.require().toString(), "-f", format.driver(), "-c",
                String.format("write -P 0x%02x 0 %d", pattern & 0xff, RealQemu.PATTERN_BYTES), image.toString());
    }

    /**
     * Shuts a guest down as {@code xl shutdown} leaves it: QEMU gone, and libxl's xenstore nodes and userdata removed
     * ({@code libxl__destroy_domid}, {@code libxl__userdata_destroyall}).
     */
    void shutOff(TestDomain d) throws Exception {
        Path socket = qmpSocket(d);
        try {
            RawQmp.execute(socket, QMP_TIMEOUT, "{\"execute\":\"quit\"}");
        } catch (IOException e) {
            // QEMU may close the socket before the reply is read; gone is gone, checked below
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (canConnect(socket)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("QEMU of domain " + d.domid() + " did not quit");
            }
            Thread.sleep(20);
        }
        Files.deleteIfExists(socket);
        Dom0Fixture.removeDomainNodes(xenstore, d.domid(), d.uuid());
        String mine = "." + d.domid() + "." + d.uuid() + ".";
        try (var files = Files.list(root.resolve("var/lib/xen"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("userdata-")
                    && p.getFileName().toString().contains(mine)).toList()) {
                Files.delete(f);
            }
        }
    }

    private static boolean canConnect(Path socket) {
        try {
            RawQmp.exchange(socket, Duration.ofMillis(500));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Path qmpSocket(TestDomain d) {
        return root.resolve("var/run/xen/qmp-libxl-" + d.domid());
    }

    private static String required(String key) {
        String v = System.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException("system property " + key + " is not set: the class's @Configuration"
                    + " must add HostPeers.options()");
        }
        return v;
    }
}
