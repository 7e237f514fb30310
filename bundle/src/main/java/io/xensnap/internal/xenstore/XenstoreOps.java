package io.xensnap.internal.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The node operations, outside a transaction ({@link XenstoreClient}) or inside one (the view a
 * {@link XenstoreClient#transaction transaction body} gets). Paths follow docs/xen-host.md#paths: absolute
 * ({@code /...}) or relative to the connection's domain path, characters {@code [A-Za-z0-9_@/-]}, no {@code //}, no
 * trailing {@code /}.
 */
public interface XenstoreOps {

    /** @return the raw value (may hold any bytes, NULs included) */
    byte[] readBytes(String path) throws XenstoreException;

    /** @return the value as UTF-8 */
    default String read(String path) throws XenstoreException {
        return new String(readBytes(path), StandardCharsets.UTF_8);
    }

    /** @return the value, or empty when the node does not exist */
    default Optional<String> readIfExists(String path) throws XenstoreException {
        try {
            return Optional.of(read(path));
        } catch (XenstoreException e) {
            if (e.is(XenstoreException.ENOENT)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * Reads several nodes. A connection sends every request before it waits for the first reply, so the cost is about
     * one round trip instead of one per node.
     *
     * @return one value per path, in order; empty where the node does not exist
     * @throws XenstoreException the first failure other than ENOENT, in path order
     */
    default List<Optional<String>> readAllIfExist(List<String> paths) throws XenstoreException {
        List<Optional<String>> out = new ArrayList<>();
        for (String p : paths) {
            out.add(readIfExists(p));
        }
        return out;
    }

    default boolean exists(String path) throws XenstoreException {
        return readIfExists(path).isPresent();
    }

    /** Writes a value, creating the node and any missing parents (which inherit their parent's permissions). */
    void write(String path, byte[] value) throws XenstoreException;

    default void write(String path, String value) throws XenstoreException {
        write(path, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Creates the node with an empty value; an existing node keeps its value. */
    void mkdir(String path) throws XenstoreException;

    /** Removes the node and everything below it; a missing node whose parent exists is fine, a missing parent is ENOENT. */
    void rm(String path) throws XenstoreException;

    /**
     * @return the names of the children, in the daemon's order (cxenstored: creation order; oxenstored: sorted); a
     *         listing too long for one reply is fetched in parts where the daemon can
     */
    List<String> directory(String path) throws XenstoreException;

    /** @return the permission list, owner first */
    List<XsPerm> getPerms(String path) throws XenstoreException;

    /** @param perms owner first; the owner's access applies to every domain not listed */
    void setPerms(String path, List<XsPerm> perms) throws XenstoreException;
}
