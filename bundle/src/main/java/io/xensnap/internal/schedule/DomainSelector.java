package io.xensnap.internal.schedule;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import io.xensnap.api.Names;
import io.xensnap.internal.xenstore.XenDomain;

/**
 * Which running domains a schedule takes: {@code all}, or a list of uuids and name patterns ({@code *} any run of
 * characters, {@code ?} one), each entry matching on its own.
 *
 * @param entries the entries as configured, checked
 */
public record DomainSelector(List<String> entries) {

    public DomainSelector {
        entries = List.copyOf(entries);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("domains is empty: give 'all', uuids or name patterns");
        }
        for (String e : entries) {
            if (e.isBlank() || e.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException("domains: an empty entry or one with a control character");
            }
        }
    }

    public boolean matches(XenDomain domain) {
        for (String e : entries) {
            if (e.equals("all") || e.equals("*")) {
                return true;
            }
            if (Names.isUuid(e.toLowerCase(Locale.ROOT))) {
                if (e.equalsIgnoreCase(domain.uuid())) {
                    return true;
                }
            } else if (glob(e).matcher(domain.name()).matches()) {
                return true;
            }
        }
        return false;
    }

    private static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }
}
