package io.xensnap.internal.xl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.xensnap.internal.libxl.LibxlDisk;
import io.xensnap.internal.libxl.LibxlDiskFormat;
import io.xensnap.internal.libxl.SavedDomainConfig;

/**
 * xl's save image header, written here byte for byte as {@code xl save} writes it (magic, byte order, flags, the
 * optional data with libxl's JSON and its NUL), with a stand-in stream behind it. {@code DomainSnapshotIT} restores
 * rewritten images with the real xl on the Xen test bed.
 */
class SaveImageHeaderTest {

    private static final byte[] MAGIC = Arrays.copyOf(
            "Xen saved domain, xl format\n \0 \r".getBytes(StandardCharsets.ISO_8859_1), 32);
    private static final int STREAMV2 = 2;
    private static final int JSON = 1;

    @TempDir
    Path dir;

    @Test
    void theConfigAndTheStreamsStartAreReadInEitherByteOrder() throws Exception {
        byte[] json = sample();
        byte[] stream = stream(100_000);
        for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
            Path image = write("s-" + order + ".xlsave", order, STREAMV2 | JSON, json, stream);
            SaveImageHeader header = SaveImageHeader.read(image);
            assertThat(header.jsonConfig()).hasValueSatisfying(c -> assertThat(c).isEqualTo(json));
            assertThat(header.streamOffset()).isEqualTo(Files.size(image) - stream.length);
            assertThat(SaveImageHeader.refusal(image)).isNull();
        }
    }

    @Test
    void aRewrittenImageNamesTheNewDiskAndKeepsEveryOtherByte() throws Exception {
        byte[] json = sample();
        byte[] stream = stream(3_000_000);
        Path image = write("s.xlsave", ByteOrder.LITTLE_ENDIAN, STREAMV2 | JSON, json, stream);
        SaveImageHeader header = SaveImageHeader.read(image);
        LibxlDisk overlay = new LibxlDisk("xvdb", "/var/lib/xen/images/data.r1.qcow2", LibxlDiskFormat.QCOW2);
        Path copy = dir.resolve("s.xlsave.restore");

        header.rewrite(image, SavedDomainConfig.withDisks(json, List.of(overlay), "s.xlsave"), copy);

        SaveImageHeader again = SaveImageHeader.read(copy);
        byte[] config = again.jsonConfig().orElseThrow();
        assertThat(SavedDomainConfig.disk(config, "xvdb", "copy")).isEqualTo(overlay);
        assertThat(SavedDomainConfig.disk(config, "xvda", "copy"))
                .isEqualTo(SavedDomainConfig.disk(json, "xvda", "image"));
        assertThat(new String(config, StandardCharsets.UTF_8).replace("data.r1.qcow2", "data.qcow2"))
                .as("only the re-pointed path differs").isEqualTo(new String(json, StandardCharsets.UTF_8));
        byte[] all = Files.readAllBytes(copy);
        assertThat(Arrays.copyOfRange(all, (int) again.streamOffset(), all.length)).isEqualTo(stream);
        // what xl checks: magic, byte order, the JSON flag, the optional data's length covering the NUL-ended config
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(Arrays.copyOf(all, 32)).isEqualTo(MAGIC);
        assertThat(b.getInt(32)).isEqualTo(0x01020304);
        assertThat(b.getInt(36)).isEqualTo(STREAMV2 | JSON);
        assertThat(b.getInt(44)).isEqualTo(4 + config.length + 1);
        assertThat(b.getInt(48)).isEqualTo(config.length + 1);
        assertThat(all[52 + config.length]).isZero();
        assertThat(Files.getPosixFilePermissions(copy)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void anImageWithoutJsonHasNoConfigToRepoint() throws Exception {
        Path text = write("t.xlsave", ByteOrder.LITTLE_ENDIAN, STREAMV2, "name = \"vm\"\n".getBytes(
                StandardCharsets.US_ASCII), stream(10));
        assertThat(SaveImageHeader.read(text).jsonConfig()).isEmpty();
    }

    @Test
    void anythingElseIsRefusedWithTheReason() throws Exception {
        assertThat(SaveImageHeader.refusal(dir.resolve("missing.xlsave"))).contains("missing");
        Path qcow2 = Files.write(dir.resolve("q.xlsave"), "QFI\u00fb".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(SaveImageHeader.refusal(qcow2)).contains("does not start with xl's save-file magic");
        Path cut = Files.write(dir.resolve("cut.xlsave"), "Xen saved domain".getBytes(StandardCharsets.US_ASCII));
        assertThat(SaveImageHeader.refusal(cut)).contains("does not start with xl's save-file magic");
        Path link = Files.createSymbolicLink(dir.resolve("link.xlsave"), dir.resolve("q.xlsave"));
        assertThat(SaveImageHeader.refusal(link)).contains("not a regular file");
        byte[] whole = Files.readAllBytes(write("w.xlsave", ByteOrder.LITTLE_ENDIAN, STREAMV2 | JSON, sample(),
                new byte[0]));
        Path inHeader = Files.write(dir.resolve("h.xlsave"), Arrays.copyOf(whole, 200));
        assertThat(SaveImageHeader.refusal(inHeader)).contains("ends inside xl's header");
        byte[] noMark = whole.clone();
        noMark[32] = 9;
        assertThat(SaveImageHeader.refusal(Files.write(dir.resolve("m.xlsave"), noMark))).contains("byte-order mark");
        byte[] longConfig = whole.clone();
        ByteBuffer.wrap(longConfig).order(ByteOrder.LITTLE_ENDIAN).putInt(48, whole.length);
        assertThatThrownBy(() -> SaveImageHeader.read(Files.write(dir.resolve("l.xlsave"), longConfig)))
                .isInstanceOf(SaveImageException.class).hasMessageContaining("longer than its optional data");
    }

    /** As xl_saverestore.c writes it: header, then a 32-bit config length and the config with its NUL. */
    private Path write(String name, ByteOrder order, int mandatory, byte[] config, byte[] stream) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(52).order(order);
        head.put(MAGIC).putInt(0x01020304).putInt(mandatory).putInt(0).putInt(4 + config.length + 1)
                .putInt(config.length + 1);
        out.write(head.array());
        out.write(config);
        out.write(0);
        out.write(stream);
        return Files.write(dir.resolve(name), out.toByteArray());
    }

    /** libxl's JSON of a domain with a raw LV and a qcow2 disk, without the NUL libxl ends its files with. */
    private static byte[] sample() throws Exception {
        try (InputStream in = SaveImageHeaderTest.class.getResourceAsStream(
                "/io/xensnap/internal/libxl/appendix-sample.libxl-json")) {
            byte[] file = in.readAllBytes();
            return file[file.length - 1] == 0 ? Arrays.copyOf(file, file.length - 1) : file;
        }
    }

    private static byte[] stream(int length) {
        byte[] b = new byte[length];
        new Random(length).nextBytes(b);
        return b;
    }
}
