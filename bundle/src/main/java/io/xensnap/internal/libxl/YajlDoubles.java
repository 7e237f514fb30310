package io.xensnap.internal.libxl;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * A double as {@code yajl_gen_double} prints it: C's {@code "%.20g"}, then {@code ".0"} appended when the result has
 * only digits and a minus sign. Java's {@code %g} differs from C's (it never strips trailing zeros and picks the
 * exponent form differently), so the C rules are applied by hand on the exact binary value, which is what glibc rounds.
 */
final class YajlDoubles {

    private static final int PRECISION = 20;

    private YajlDoubles() {
    }

    static String format(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("yajl cannot print " + value);
        }
        String printed = percent20g(value);
        return printed.chars().allMatch(c -> c == '-' || (c >= '0' && c <= '9')) ? printed + ".0" : printed;
    }

    private static String percent20g(double value) {
        boolean negative = (Double.doubleToRawLongBits(value) & Long.MIN_VALUE) != 0;
        String sign = negative ? "-" : "";
        if (value == 0) {
            return sign + "0";
        }
        // glibc rounds the exact binary value in the default rounding mode: to nearest, ties to even.
        BigDecimal rounded = new BigDecimal(value).abs().round(new MathContext(PRECISION, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        BigDecimal stripped = rounded.stripTrailingZeros();
        if (exponent >= -4 && exponent < PRECISION) {
            return sign + stripped.toPlainString();
        }
        String digits = stripped.unscaledValue().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        int magnitude = Math.abs(exponent);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + magnitude;
    }
}
