package io.xensnap.internal.xenstore;

import java.util.Objects;

/**
 * One entry of a node's permission list ({@code n0}, {@code r5}, {@code w3}, {@code b7}). In a list the first entry
 * names the owner (who may do anything) and its access is what every domain not listed gets.
 *
 * @param access what the domain may do
 * @param domid  the domain
 */
public record XsPerm(Access access, int domid) {

    /** The letter in front of the domid. */
    public enum Access {
        NONE('n'), READ('r'), WRITE('w'), BOTH('b');

        private final char letter;

        Access(char letter) {
            this.letter = letter;
        }

        public char letter() {
            return letter;
        }

        static Access of(char letter) {
            for (Access a : values()) {
                if (a.letter == letter) {
                    return a;
                }
            }
            throw new IllegalArgumentException("no xenstore permission letter '" + letter + "'");
        }
    }

    public XsPerm {
        Objects.requireNonNull(access, "access");
        if (domid < 0 || domid > 0xffff) {
            throw new IllegalArgumentException("domid out of range: " + domid);
        }
    }

    /** @param text the wire form, e.g. {@code r5} */
    public static XsPerm parse(String text) {
        if (text.length() < 2) {
            throw new IllegalArgumentException("not a xenstore permission: '" + text + "'");
        }
        try {
            return new XsPerm(Access.of(text.charAt(0)), Integer.parseInt(text.substring(1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a xenstore permission: '" + text + "'", e);
        }
    }

    /** @return the wire form, e.g. {@code r5} */
    @Override
    public String toString() {
        return access.letter() + Integer.toString(domid);
    }
}
