package io.xensnap.internal.libxl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xensnap.harness.ManagedProcess;
import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.TempRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real peer for the file format is libyajl 2 itself: yajl_regen.c parses JSON with the system's libyajl and writes
 * it back the way libxl does (yajl_gen with beautify). Whatever goes in, YajlPrinter must print the same bytes.
 */
class YajlPrinterMatchesLibyajlTest {

    private static final JsonMapper MAPPER = new JsonMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String SPICY = "\"\\/\b\f\n\r\t\u0000\u0001\u001f\u007f é☃😀 {}[]:,";

    private static TempRoot root;
    private static Path regen;
    private static final AtomicInteger RUNS = new AtomicInteger();

    @BeforeAll
    static void compileDriver() throws Exception {
        root = TempRoot.create("yajl");
        Path source = root.resolve("yajl_regen.c");
        Files.write(source, TestFiles.resource("yajl_regen.c"));
        regen = root.resolve("yajl_regen");
        run(List.of(Prerequisite.GCC.require().toString(), "-O1", "-Wall", "-Werror", "-o", regen.toString(),
                source.toString(), libyajl().toString(), "-lm"), "gcc");
    }

    @AfterAll
    static void cleanUp() {
        if (root != null) {
            root.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestFiles.APPENDIX, TestFiles.LARGER})
    void theFixturesAreExactlyWhatLibyajlWrites(String resource) throws Exception {
        byte[] file = TestFiles.resource(resource);
        byte[] json = Arrays.copyOf(file, file.length - 1);

        assertThat(TestFiles.text(viaLibyajl(json))).isEqualTo(TestFiles.text(json));
    }

    @Test
    void aHandWrittenConfigComesOutAsLibyajlWritesIt() throws Exception {
        byte[] draft = TestFiles.resource("larger-config-draft.json");

        assertSameAsLibyajl(draft);
    }

    @Test
    void doublesOfEveryKindPrintAsYajlGenDouble() throws Exception {
        Random random = new Random(4711);
        ArrayNode doubles = NODES.arrayNode();
        for (double d : new double[]{0.0, -0.0, 1.0, -1.0, 0.1, 1e20, 1e21, 1e-4, 1e-5, 123456789.0, 1e19, 9.5e19,
                99999999999999999999.0, Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, 0.5, 2.5, 1.0 / 3}) {
            doubles.add(d);
        }
        while (doubles.size() < 3000) {
            double d = switch (doubles.size() % 3) {
                case 0 -> Double.longBitsToDouble(random.nextLong());
                case 1 -> (random.nextInt(2000001) - 1000000) / Math.pow(10, random.nextInt(12));
                default -> random.nextGaussian() * Math.pow(10, random.nextInt(60) - 30);
            };
            if (Double.isFinite(d)) {
                doubles.add(d);
            }
        }

        assertSameAsLibyajl(MAPPER.writeValueAsBytes(doubles));
    }

    @Test
    void randomTreesPrintAsLibyajlPrintsThem() throws Exception {
        Random random = new Random(815);
        ArrayNode trees = NODES.arrayNode();
        for (int i = 0; i < 200; i++) {
            trees.add(randomValue(random, 0));
        }

        assertSameAsLibyajl(MAPPER.writeValueAsBytes(trees));
    }

    private static JsonNode randomValue(Random random, int depth) {
        int kind = random.nextInt(depth > 4 ? 6 : 9);
        return switch (kind) {
            case 0 -> NODES.textNode(randomString(random));
            case 1 -> NODES.numberNode(random.nextLong() >> random.nextInt(64));
            case 2 -> NODES.numberNode(new BigInteger(70 + random.nextInt(40), random).negate());
            case 3 -> NODES.numberNode(random.nextDouble() * Math.pow(10, random.nextInt(40) - 20));
            case 4 -> NODES.booleanNode(random.nextBoolean());
            case 5 -> NODES.nullNode();
            case 6, 7 -> {
                ObjectNode o = NODES.objectNode();
                for (int i = random.nextInt(5); i > 0; i--) {
                    o.set(randomString(random) + i, randomValue(random, depth + 1));
                }
                yield o;
            }
            default -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = random.nextInt(5); i > 0; i--) {
                    a.add(randomValue(random, depth + 1));
                }
                yield a;
            }
        };
    }

    private static String randomString(Random random) {
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(12); i > 0; i--) {
            s.appendCodePoint(random.nextBoolean() ? 'a' + random.nextInt(26)
                    : SPICY.codePointAt(SPICY.offsetByCodePoints(0, random.nextInt(SPICY.codePointCount(0, SPICY.length())))));
        }
        return s.toString();
    }

    private static void assertSameAsLibyajl(byte[] json) throws Exception {
        byte[] expected = viaLibyajl(json);

        byte[] actual = YajlPrinter.print(DomainConfigJson.readTree(json));

        assertThat(TestFiles.text(actual)).isEqualTo(TestFiles.text(expected));
        assertThat(actual).isEqualTo(expected);
    }

    private static byte[] viaLibyajl(byte[] json) throws IOException {
        int n = RUNS.incrementAndGet();
        Path in = root.resolve("in-" + n + ".json");
        Path out = root.resolve("out-" + n + ".json");
        Files.write(in, json);
        run(List.of(regen.toString(), in.toString(), out.toString()), "yajl_regen");
        return Files.readAllBytes(out);
    }

    private static void run(List<String> argv, String name) {
        ManagedProcess p = ManagedProcess.start(name, argv, Map.of(), root.resolve(name + "-" + RUNS.get() + ".log"));
        try {
            Instant deadline = Instant.now().plusSeconds(20);
            while (p.isAlive()) {
                if (Instant.now().isAfter(deadline)) {
                    throw new AssertionError(name + " did not finish in 20 s: " + p.logText());
                }
                Thread.sleep(2);
            }
            assertThat(p.exitCode()).as("%s failed: %s", name, p.logText()).isZero();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            p.kill();
        }
    }

    /** libyajl2 comes with xen-utils-4.17 (libxenlight links it); its headers are not needed, see yajl_regen.c. */
    private static Path libyajl() throws IOException {
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu")) {
            Path lib = Path.of(dir, "libyajl.so.2");
            if (Files.isReadable(lib)) {
                return lib;
            }
        }
        throw new IllegalStateException("libyajl.so.2 is missing: install the Debian package libyajl2"
                + " (xen-utils-4.17 brings it; scripts/prereqs installs everything the tests need)");
    }
}
