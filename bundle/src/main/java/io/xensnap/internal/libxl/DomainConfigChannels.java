package io.xensnap.internal.libxl;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code channels} of libxl's domain config. Each is {@code {"devid": N, "name": "…", "connection.socket":
 * {"path": "…"}}}: the connection type is the key of a keyed union, there is no separate {@code connection} field.
 */
final class DomainConfigChannels {

    private DomainConfigChannels() {
    }

    static Optional<Path> socket(ObjectNode config, String name, String file) throws LibxlConfigException {
        JsonNode channels = config.get("channels");
        if (channels == null || channels.isNull()) {
            return Optional.empty();
        }
        if (!channels.isArray()) {
            throw malformed(file + ": channels is not an array");
        }
        for (JsonNode c : channels) {
            if (!c.isObject() || !name.equals(c.path("name").asText(null))) {
                continue;
            }
            JsonNode path = c.path("connection.socket").path("path");
            if (!path.isTextual()) {
                // a pty channel, or a socket channel without a path: nothing xensnap can connect to
                return Optional.empty();
            }
            try {
                Path p = Path.of(path.asText());
                if (!p.isAbsolute()) {
                    throw malformed(file + ": channel " + name + " has a relative socket path " + path);
                }
                return Optional.of(p.normalize());
            } catch (InvalidPathException e) {
                throw malformed(file + ": channel " + name + " has an invalid socket path " + path);
            }
        }
        return Optional.empty();
    }

    private static LibxlConfigException malformed(String message) {
        return new LibxlConfigException(LibxlConfigException.Reason.MALFORMED, message);
    }
}
