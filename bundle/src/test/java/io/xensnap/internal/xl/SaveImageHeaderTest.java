package io.xensnap.internal.xl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a revert checks of a save image before it destroys a running domain to restore it. */
class SaveImageHeaderTest {

    @TempDir
    Path dir;

    @Test
    void anImageStartingWithXlsMagicAndByteOrderIsAccepted() throws Exception {
        byte[] head = Arrays.copyOf("Xen saved domain, xl format\n \0 \r".getBytes(StandardCharsets.ISO_8859_1), 48);
        head[32] = 4; // 0x01020304, little-endian, as an x86 host writes it
        head[33] = 3;
        head[34] = 2;
        head[35] = 1;
        Path image = Files.write(dir.resolve("s.xlsave"), head);
        assertThat(SaveImageHeader.refusal(image)).isNull();
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
    }
}
