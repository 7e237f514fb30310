package io.xensnap.internal.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.RawQmp;
import io.xensnap.harness.RealQemu;
import io.xensnap.harness.ShortCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Helpers that look at QEMU and images without the code under test. */
final class QmpTesting {

    static final ObjectMapper JSON = new ObjectMapper();

    private QmpTesting() {
    }

    static QmpTimeouts fastTimeouts() {
        return new QmpTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(10),
                Duration.ofSeconds(30));
    }

    static QmpClient client(RealQemu qemu) {
        return new QmpClient(qemu.qmpSocket(), "dom1", fastTimeouts());
    }

    /** Live threads of the QMP client. */

    /** {@code query-block} over {@link RawQmp}: the product's client must not hold the socket meanwhile. */
    static JsonNode rawQueryBlock(RealQemu qemu) {
        return raw(qemu, "{\"execute\":\"query-block\"}");
    }

    static JsonNode raw(RealQemu qemu, String command) {
        try {
            JsonNode reply = JSON.readTree(RawQmp.execute(qemu.qmpSocket(), Duration.ofSeconds(5), command));
            if (!reply.has("return")) {
                throw new IllegalStateException(command + " failed: " + reply);
            }
            return reply.get("return");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Root node-names per device, in QEMU's order. */
    static List<String> rootNodes(RealQemu qemu) {
        List<String> roots = new ArrayList<>();
        rawQueryBlock(qemu).forEach(b -> roots.add(b.path("inserted").path("node-name").asText()));
        return roots;
    }

    /** Backing chain file names per device, root first, e.g. {@code [[ov.qcow2, disk0.qcow2], …]}. */
    static List<List<String>> chains(RealQemu qemu) {
        List<List<String>> all = new ArrayList<>();
        for (JsonNode b : rawQueryBlock(qemu)) {
            List<String> chain = new ArrayList<>();
            for (JsonNode img = b.path("inserted").path("image"); img.has("filename"); img = img.path("backing-image")) {
                chain.add(img.get("filename").asText());
            }
            all.add(chain);
        }
        return all;
    }

    /** Internal snapshot names of each device's root layer. */
    static List<List<String>> snapshotNames(RealQemu qemu) {
        List<List<String>> all = new ArrayList<>();
        for (JsonNode b : rawQueryBlock(qemu)) {
            List<String> names = new ArrayList<>();
            b.path("inserted").path("image").path("snapshots").forEach(s -> names.add(s.path("name").asText()));
            all.add(names);
        }
        return all;
    }

    /** {@code qemu-img info --backing-chain -U}: the file names from {@code top} down. */
    static List<String> imgChain(Path top) {
        try {
            JsonNode layers = JSON.readTree(ShortCommand.ok(Prerequisite.QEMU_IMG.require().toString(), "info",
                    "--output=json", "--backing-chain", "-U", top.toString()).output());
            List<String> files = new ArrayList<>();
            layers.forEach(l -> files.add(l.path("filename").asText()));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void qemuImg(String... args) {
        List<String> argv = new ArrayList<>(List.of(Prerequisite.QEMU_IMG.require().toString()));
        argv.addAll(List.of(args));
        ShortCommand.ok(argv.toArray(String[]::new));
    }

    /** Writes {@code pattern} over {@code bytes} bytes at offset 0 of a closed image. */
    static void fill(Path image, String format, int pattern, long bytes) {
        ShortCommand.ok(Prerequisite.QEMU_IO.require().toString(), "-f", format, "-c",
                String.format("write -P 0x%02x 0 %d", pattern, bytes), image.toString());
    }
}
