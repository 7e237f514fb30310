package io.xensnap.internal.xl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The start of an xl save image: 32 bytes of magic ({@code "Xen saved domain, xl format\n \0 \r"}, NUL-padded), then
 * four 32-bit words in the saving host's byte order (byte-order marker {@code 0x01020304}, mandatory flags, optional
 * flags, length of the optional data), then the optional data (a 32-bit length and libxl's domain config, JSON when
 * mandatory flag 1 is set, NUL-terminated), then libxl's migration stream. Read here only to tell an xl save image
 * from anything else before a revert destroys a running domain to restore it.
 */
public final class SaveImageHeader {

    private static final byte[] MAGIC = Arrays.copyOf(
            "Xen saved domain, xl format\n \0 \r".getBytes(StandardCharsets.ISO_8859_1), 32);

    private SaveImageHeader() {
    }

    /** @return why {@code image} is not an xl save image xensnap can restore, or null when it is one */
    public static String refusal(Path image) {
        if (!Files.isRegularFile(image, LinkOption.NOFOLLOW_LINKS)) {
            return image + " is missing or not a regular file";
        }
        try (InputStream in = Files.newInputStream(image, LinkOption.NOFOLLOW_LINKS)) {
            byte[] head = in.readNBytes(MAGIC.length + 4);
            if (head.length < MAGIC.length + 4 || !Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC)) {
                return image + " does not start with xl's save-file magic: not an xl save image, or damaged";
            }
            return null;
        } catch (IOException e) {
            return image + " cannot be read: " + e.getMessage();
        }
    }
}
