package io.xensnap.internal.libxl;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The bytes of a {@code .libxl-json} file and the tree they hold. libxl stores {@code strlen + 1} bytes, so the file
 * ends with a NUL after yajl's final newline: stripped on read, written back on print.
 */
final class DomainConfigJson {

    // Duplicate keys would silently lose data on the way back. Floats are read as doubles, as libxl's strtod reads
    // them: BigDecimal would lose the sign of -0.0, which yajl writes as "-0.0".
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private DomainConfigJson() {
    }

    /**
     * @param file what the file holds, trailing NUL included
     * @param name the file's name, for messages
     * @throws LibxlConfigException MALFORMED when it is empty, not JSON, or not a JSON object
     */
    static ObjectNode parse(byte[] file, String name) throws LibxlConfigException {
        int length = file.length;
        if (length > 0 && file[length - 1] == 0) {
            length--;
        }
        if (length == 0) {
            // libxl refuses an empty userdata file too ("userdata file %s is empty").
            throw new LibxlConfigException(LibxlConfigException.Reason.MALFORMED, name + " is empty");
        }
        JsonNode root;
        try {
            root = readTree(Arrays.copyOf(file, length));
        } catch (JacksonException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.MALFORMED,
                    name + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new LibxlConfigException(LibxlConfigException.Reason.IO, "cannot parse " + name, e);
        }
        if (!(root instanceof ObjectNode object)) {
            throw new LibxlConfigException(LibxlConfigException.Reason.MALFORMED,
                    name + " holds a JSON " + root.getNodeType() + ", not a domain config object");
        }
        Optional<JsonNode> huge = nonFiniteNumber(object);
        if (huge.isPresent()) {
            // yajl_gen_double cannot write it either; libxl would keep it as text, which Jackson's tree has lost
            throw new LibxlConfigException(LibxlConfigException.Reason.MALFORMED,
                    name + " has a number beyond double range: " + huge.get());
        }
        return object;
    }

    private static Optional<JsonNode> nonFiniteNumber(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return Double.isFinite(node.doubleValue()) ? Optional.empty() : Optional.of(node);
        }
        for (JsonNode child : node) {
            Optional<JsonNode> found = nonFiniteNumber(child);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    static JsonNode readTree(byte[] json) throws IOException {
        return MAPPER.readTree(json);
    }

    /** @return the file content libxl would write for {@code config}: yajl output plus the trailing NUL */
    static byte[] print(ObjectNode config) {
        byte[] json = YajlPrinter.print(config);
        return Arrays.copyOf(json, json.length + 1);
    }
}
