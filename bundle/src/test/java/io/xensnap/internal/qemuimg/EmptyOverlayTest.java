package io.xensnap.internal.qemuimg;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.xensnap.harness.Prerequisite;
import io.xensnap.harness.ShortCommand;
import io.xensnap.harness.TempRoot;

/** The overlay xensnap writes itself against the one the real qemu-img writes for the same request. */
class EmptyOverlayTest {

    private static final String QEMU_IMG = Prerequisite.QEMU_IMG.require().toString();
    private static final long MIB = 1024 * 1024;

    private final ObjectMapper json = new ObjectMapper();
    private final QemuImg img = new QemuImg(new JdkProcessRunner(), QEMU_IMG, Duration.ofSeconds(30), json);
    private TempRoot dir;

    @BeforeEach
    void setUp() {
        dir = TempRoot.create("xo");
    }

    @AfterEach
    void tearDown() {
        dir.close();
    }

    /**
     * Byte for byte what {@code qemu-img create -f qcow2 -b B -F F -u FILE SIZE} writes: both backing formats, sizes
     * from one sector to 64 TiB (L1 tables of one entry to several clusters), a backing name of one byte and of 1023
     * (the longest qcow2 takes); qemu-img reads the file as the overlay asked for, and its check finds no error or leak.
     */
    @Test
    void theBytesAreQemuImgsOwn() throws Exception {
        Path raw = dir.path().resolve("b.raw");
        Files.write(raw, new byte[0]);
        Path qcow2 = dir.path().resolve("b.qcow2");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", qcow2.toString(), "64M");
        Path deep = dir.path().resolve("d".repeat(200) + "/" + "e".repeat(200) + "/" + "f".repeat(200) + "/"
                + "g".repeat(200));
        Path longName = deep.resolve("h".repeat(1023 - deep.toString().length() - 1));
        assertThat(longName.toString()).hasSize(1023);
        long[] sizes = {512, 64 * MIB, 64 * MIB + 512, 512 * MIB, 512 * MIB + 512, 1024 * MIB, 100L * 1024 * MIB,
            1024L * 1024 * MIB, 16L * 1024 * 1024 * MIB, 64L * 1024 * 1024 * MIB};
        int n = 0;
        for (Object[] backing : new Object[][] {{raw, "raw"}, {qcow2, "qcow2"}, {Path.of("/x"), "raw"},
                {longName, "qcow2"}}) {
            for (long size : sizes) {
                Path ours = dir.path().resolve("ours-" + n + ".qcow2");
                Path theirs = dir.path().resolve("theirs-" + n++ + ".qcow2");
                String b = backing[0].toString();
                String f = (String) backing[1];
                ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", b, "-F", f, "-u", theirs.toString(),
                        Long.toString(size));
                Files.write(ours, new byte[0]);
                img.formatOverlay(ours, new ImageFile(Path.of(b), f), size);
                assertThat(Files.readAllBytes(ours)).as("%s over %s (%s), %d bytes", ours, b, f, size)
                        .isEqualTo(Files.readAllBytes(theirs));
                JsonNode info = json.readTree(ShortCommand.ok(QEMU_IMG, "info", "-U", "--output=json",
                        ours.toString()).output());
                assertThat(info.path("format").asText()).isEqualTo("qcow2");
                assertThat(info.path("virtual-size").asLong()).isEqualTo(size);
                assertThat(info.path("backing-filename").asText()).isEqualTo(b);
                assertThat(info.path("backing-filename-format").asText()).isEqualTo(f);
                assertThat(info.path("dirty-flag").asBoolean()).isFalse();
                if (Files.exists(Path.of(b))) {
                    // check opens the backing too
                    assertThat(img.check(ImageFile.qcow2(ours)))
                            .satisfies(c -> assertThat(List.of(c.corruptions(), c.leaks(), c.checkErrors()))
                                    .containsOnly(0L));
                }
                Files.delete(ours);
                Files.delete(theirs);
            }
        }
    }

    /**
     * A live create knows the size (QEMU's {@code query-block}): no qemu-img process starts for it. Without the size
     * (a shut-off domain's overlay) qemu-img runs and reads it from the backing.
     */
    @Test
    void anOverlayOfAKnownSizeStartsNoProcess() throws Exception {
        List<List<String>> started = new ArrayList<>();
        JdkProcessRunner real = new JdkProcessRunner();
        QemuImg counted = new QemuImg((argv, timeout) -> {
            started.add(argv);
            return real.run(argv, timeout);
        }, QEMU_IMG, Duration.ofSeconds(30), json);
        Path base = dir.path().resolve("base.qcow2");
        ShortCommand.ok(QEMU_IMG, "create", "-q", "-f", "qcow2", base.toString(), "64M");
        Path known = dir.path().resolve("known.qcow2");
        Files.write(known, new byte[0]);
        counted.formatOverlay(known, ImageFile.qcow2(base), 64 * MIB);
        assertThat(started).isEmpty();

        Path unknown = dir.path().resolve("unknown.qcow2");
        Files.write(unknown, new byte[0]);
        counted.formatOverlay(unknown, ImageFile.qcow2(base), -1);
        assertThat(started).singleElement().satisfies(argv -> assertThat(argv).contains("create"));
        assertThat(Files.readAllBytes(known)).isEqualTo(Files.readAllBytes(unknown));
    }

    /** What qemu-img would write differently, or only from the backing, is left to qemu-img. */
    @Test
    void whatItDoesNotCoverGoesToQemuImg() {
        assertThat(EmptyOverlay.of("/b", "raw", 513)).isEmpty();
        assertThat(EmptyOverlay.of("/b", "raw", 0)).isEmpty();
        assertThat(EmptyOverlay.of("/" + "b".repeat(1023), "raw", 512)).isEmpty();
        assertThat(EmptyOverlay.of("/b", "raw", 1L << 60)).isEmpty();
        assertThat(EmptyOverlay.of("/b", "raw", 512)).isPresent();
    }
}
