package io.xensnap.internal.xenstore;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Payload shapes (docs/xen-host.md#payloads): NUL-terminated strings, and {@code path|value} with a raw value. */
final class XsPayload {

    private XsPayload() {
    }

    /** @return each part followed by a NUL: {@code path|}, {@code path|token|}, {@code path|offset|} */
    static byte[] terminated(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String p : parts) {
            out.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** @return {@code path|value}: WRITE's value is raw, not NUL-terminated; everything after the first NUL is it */
    static byte[] pathAndValue(String path, byte[] value) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[p.length + 1 + value.length];
        System.arraycopy(p, 0, out, 0, p.length);
        System.arraycopy(value, 0, out, p.length + 1, value.length);
        return out;
    }

    /**
     * @return the NUL-separated strings of a payload; the NUL that ends the last one is not an empty string after it
     *         ({@code a|b|} is [a, b], the empty payload is [])
     */
    static List<String> split(byte[] payload) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                out.add(new String(payload, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < payload.length) {
            out.add(new String(payload, start, payload.length - start, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** @return the payload up to its first NUL: {@code OK|} is OK, {@code ENOENT|} is ENOENT */
    static String firstString(byte[] payload) {
        int end = 0;
        while (end < payload.length && payload[end] != 0) {
            end++;
        }
        return new String(payload, 0, end, StandardCharsets.UTF_8);
    }
}
