package io.xensnap.internal.xl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 of a save image, recorded when the snapshot is taken and checked before a revert destroys a running
 * domain: xl's header says nothing about the migration stream behind it, and a stream damaged on disk would only
 * show when {@code xl restore} fails, with the domain already gone.
 */
public final class SaveImageDigest {

    private SaveImageDigest() {
    }

    /** @return the image's SHA-256 in lowercase hex; the image is read without following a link */
    public static String sha256(Path image) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(image, LinkOption.NOFOLLOW_LINKS)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
