package io.xensnap.internal.libxl;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What libxl's domain config says about how a domain is built, as far as a save, destroy and restore of it on other
 * disk backends depends on it. Field names from libxl_types.idl: {@code c_info.type} (libxl_domain_type, "pv", "pvh",
 * "hvm"), {@code b_info.device_model_stubdomain} and {@code b_info.dm_restrict} (libxl_defbool: "True", "False" or
 * "&lt;default&gt;", left out at its default), {@code b_info.max_memkb}.
 *
 * @param type       "pv", "pvh" or "hvm" as libxl writes it; empty when the config has none
 * @param stubdomain the device model runs in a stub domain
 * @param dmRestrict the device model runs deprivileged
 * @param maxMemKb   the domain's maximum memory in KiB, 0 when the config has none
 */
public record DomainShape(Optional<String> type, boolean stubdomain, boolean dmRestrict, long maxMemKb) {

    static DomainShape of(ObjectNode config) {
        JsonNode type = config.path("c_info").path("type");
        JsonNode b = config.path("b_info");
        return new DomainShape(type.isTextual() ? Optional.of(type.textValue()) : Optional.empty(),
                isTrue(b.path("device_model_stubdomain")), isTrue(b.path("dm_restrict")),
                b.path("max_memkb").canConvertToLong() ? b.path("max_memkb").longValue() : 0);
    }

    /** libxl writes a defbool as the string "True" when it is set true. */
    private static boolean isTrue(JsonNode defbool) {
        return defbool.isTextual() && defbool.textValue().equals("True");
    }
}
