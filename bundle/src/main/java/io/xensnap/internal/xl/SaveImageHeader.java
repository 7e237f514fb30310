package io.xensnap.internal.xl;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Optional;

/**
 * The start of an xl save image: 32 bytes of magic ({@code "Xen saved domain, xl format\n \0 \r"}, NUL-padded), then
 * four 32-bit words in the saving host's byte order (byte-order marker {@code 0x01020304}, mandatory flags, optional
 * flags, length of the optional data), then the optional data (a 32-bit length and libxl's domain config, JSON when
 * mandatory flag 1 is set, NUL-terminated), then libxl's migration stream, which holds no config of its own.
 *
 * <p>{@code xl restore} builds the domain from that embedded config unless it is given an xl.cfg file, and it reads
 * JSON only from the image: a revert that must restore the domain on other images than the ones the config names
 * writes a copy of the image whose header carries the changed config ({@link #rewrite}), the stream behind it
 * unchanged.
 */
public final class SaveImageHeader {

    private static final byte[] MAGIC = Arrays.copyOf(
            "Xen saved domain, xl format\n \0 \r".getBytes(StandardCharsets.ISO_8859_1), 32);
    private static final int BYTE_ORDER_MARK = 0x01020304;
    private static final int FLAG_JSON = 1;
    private static final int FIXED = MAGIC.length + 16;
    /** far above any domain config: a length beyond it is a damaged header, not a config to allocate */
    private static final int MAX_OPTIONAL = 16 << 20;

    private final ByteOrder order;
    private final int mandatoryFlags;
    private final int optionalFlags;
    private final byte[] config;
    private final byte[] optionalTail;
    private final long streamOffset;

    private SaveImageHeader(ByteOrder order, int mandatoryFlags, int optionalFlags, byte[] config,
                            byte[] optionalTail, long streamOffset) {
        this.order = order;
        this.mandatoryFlags = mandatoryFlags;
        this.optionalFlags = optionalFlags;
        this.config = config;
        this.optionalTail = optionalTail;
        this.streamOffset = streamOffset;
    }

    /** @return libxl's domain config as JSON (without xl's NUL), empty when the image carries none or xl.cfg text */
    public Optional<byte[]> jsonConfig() {
        return config != null && (mandatoryFlags & FLAG_JSON) != 0 ? Optional.of(config.clone()) : Optional.empty();
    }

    /** @return where libxl's migration stream starts in the image */
    public long streamOffset() {
        return streamOffset;
    }

    /** @return why {@code image} is not an xl save image xensnap can restore, or null when it is one */
    public static String refusal(Path image) {
        try {
            read(image);
            return null;
        } catch (SaveImageException e) {
            return e.getMessage();
        }
    }

    /** Reads and checks the header of {@code image}, which must be a regular file (no link followed). */
    public static SaveImageHeader read(Path image) throws SaveImageException {
        if (!Files.isRegularFile(image, LinkOption.NOFOLLOW_LINKS)) {
            throw new SaveImageException(image + " is missing or not a regular file");
        }
        try (InputStream in = Files.newInputStream(image, LinkOption.NOFOLLOW_LINKS)) {
            byte[] fixed = in.readNBytes(FIXED);
            if (fixed.length < MAGIC.length + 4 || !Arrays.equals(Arrays.copyOf(fixed, MAGIC.length), MAGIC)) {
                throw new SaveImageException(image + " does not start with xl's save-file magic: not an xl save"
                        + " image, or damaged");
            }
            if (fixed.length < FIXED) {
                throw new SaveImageException(image + " ends inside xl's header: damaged");
            }
            ByteBuffer words = ByteBuffer.wrap(fixed, MAGIC.length, 16).order(ByteOrder.LITTLE_ENDIAN);
            if (words.getInt(MAGIC.length) != BYTE_ORDER_MARK) {
                words.order(ByteOrder.BIG_ENDIAN);
                if (words.getInt(MAGIC.length) != BYTE_ORDER_MARK) {
                    throw new SaveImageException(image + ": xl's header has no byte-order mark: damaged");
                }
            }
            int mandatory = words.getInt(MAGIC.length + 4);
            int optional = words.getInt(MAGIC.length + 8);
            int optionalLength = words.getInt(MAGIC.length + 12);
            if (optionalLength < 0 || optionalLength > MAX_OPTIONAL) {
                throw new SaveImageException(image + ": xl's header claims " + Integer.toUnsignedString(optionalLength)
                        + " bytes of optional data: damaged");
            }
            byte[] optionalData = in.readNBytes(optionalLength);
            if (optionalData.length < optionalLength) {
                throw new SaveImageException(image + " ends inside xl's header: damaged");
            }
            return parseOptional(image, words.order(), mandatory, optional, optionalData);
        } catch (IOException e) {
            throw new SaveImageException(image + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static SaveImageHeader parseOptional(Path image, ByteOrder order, int mandatory, int optional,
                                                 byte[] data) throws SaveImageException {
        long streamOffset = FIXED + (long) data.length;
        if (data.length == 0) {
            return new SaveImageHeader(order, mandatory, optional, null, new byte[0], streamOffset);
        }
        if (data.length < 4) {
            throw new SaveImageException(image + ": xl's optional data is cut short: damaged");
        }
        int configLength = ByteBuffer.wrap(data, 0, 4).order(order).getInt();
        if (configLength < 0 || configLength > data.length - 4) {
            throw new SaveImageException(image + ": the config in xl's header is longer than its optional data:"
                    + " damaged");
        }
        byte[] config = Arrays.copyOfRange(data, 4, 4 + configLength);
        // xl writes the config with its terminating NUL and counts it
        int end = config.length;
        while (end > 0 && config[end - 1] == 0) {
            end--;
        }
        return new SaveImageHeader(order, mandatory, optional, Arrays.copyOf(config, end),
                Arrays.copyOfRange(data, 4 + configLength, data.length), streamOffset);
    }

    /**
     * Writes {@code target} (a new file, mode 0600): the header of {@code source} with {@code json} as its config, then
     * the migration stream of {@code source} byte for byte.
     */
    public void rewrite(Path source, byte[] json, Path target) throws SaveImageException {
        byte[] config = Arrays.copyOf(json, json.length + 1);
        ByteBuffer head = ByteBuffer.allocate(FIXED + 4).order(order);
        head.put(MAGIC).putInt(BYTE_ORDER_MARK).putInt(mandatoryFlags | FLAG_JSON).putInt(optionalFlags)
                .putInt(4 + config.length + optionalTail.length).putInt(config.length);
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
             OutputStream out = Files.newOutputStream(Files.createFile(target,
                     PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                     StandardOpenOption.WRITE)) {
            out.write(head.array());
            out.write(config);
            out.write(optionalTail);
            out.flush();
            long size = in.size();
            long at = streamOffset;
            try (FileChannel sink = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                while (at < size) {
                    at += in.transferTo(at, size - at, sink);
                }
                sink.force(false);
            }
        } catch (IOException e) {
            throw new SaveImageException("cannot write " + target + " from " + source + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "xl save image header (" + order + ", mandatory flags " + mandatoryFlags + ", config "
                + (config == null ? "none" : config.length + " bytes") + ", stream at " + streamOffset + ")";
    }
}
