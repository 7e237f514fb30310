package io.xensnap.internal.libxl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class YajlPrinterTest {

    private static final JsonMapper MAPPER = new JsonMapper();

    @ParameterizedTest
    @ValueSource(strings = {TestFiles.APPENDIX, TestFiles.LARGER, TestFiles.YAJL_EXTREMES})
    void parseThenPrintGivesBackTheFileByteForByte(String resource) throws Exception {
        byte[] original = TestFiles.resource(resource);

        byte[] printed = DomainConfigJson.print(DomainConfigJson.parse(original, resource));

        assertThat(TestFiles.text(printed)).isEqualTo(TestFiles.text(original));
        assertThat(printed).isEqualTo(original);
    }

    @Test
    void fileEndsWithNewlineThenNul() throws Exception {
        byte[] printed = DomainConfigJson.print(DomainConfigJson.parse(TestFiles.bytes("{\"a\":1}"), "t"));

        assertThat(TestFiles.text(printed)).isEqualTo("{\n    \"a\": 1\n}\n\0");
    }

    @Test
    void emptyContainersArePrintedAsYajlBeautifyDoes() throws Exception {
        String printed = print("{\"o\":{},\"a\":[],\"n\":[{},[]]}");

        assertThat(printed).isEqualTo("{\n"
                + "    \"o\": {\n\n    },\n"
                + "    \"a\": [\n\n    ],\n"
                + "    \"n\": [\n"
                + "        {\n\n        },\n"
                + "        [\n\n        ]\n"
                + "    ]\n"
                + "}\n");
    }

    @Test
    void stringsEscapeOnlyWhatYajlEscapes() throws Exception {
        String printed = print("[\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f \\u007f \\u00e9 \\ud83d\\ude80\"]");

        assertThat(printed).isEqualTo("[\n    \"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001F \u007f é 🚀\"\n]\n");
    }

    @Test
    void keysAreEscapedLikeValues() throws Exception {
        assertThat(print("{\"a\\tb/\":null}")).isEqualTo("{\n    \"a\\tb/\": null\n}\n");
    }

    @Test
    void integersKeepTheirDigitsAtEveryMagnitude() throws Exception {
        assertThat(print("[-1,0,9223372036854775807,-9223372036854775808,18446744073709551615,"
                + "123456789012345678901234567890]"))
                .isEqualTo("[\n    -1,\n    0,\n    9223372036854775807,\n    -9223372036854775808,\n"
                        + "    18446744073709551615,\n    123456789012345678901234567890\n]\n");
    }

    @ParameterizedTest
    @CsvSource({
            "0.1, 0.10000000000000000555",
            "0.5, 0.5",
            "100000.0, 100000.0",
            "1e5, 100000.0",
            "-0.0, -0.0",
            "0.0, 0.0",
            "1e21, 1e+21",
            "1e20, 1e+20",
            "12345678901234567890.0, 12345678901234567168.0",
            "1.5e-5, 1.500000000000000038e-05",
            "0.0001, 0.00010000000000000000479",
            "-2.5e-7, -2.4999999999999998869e-07",
            "1e300, 1.0000000000000000525e+300",
            "5e-324, 4.9406564584124654418e-324",
            "1.7976931348623157e308, 1.7976931348623157081e+308",
    })
    void doublesArePrintedAsYajlGenDouble(String in, String expected) throws Exception {
        assertThat(print("[" + in + "]")).isEqualTo("[\n    " + expected + "\n]\n");
    }

    @Test
    void aFloatBeyondDoubleRangeIsRefusedAsMalformed() {
        assertThatThrownBy(() -> DomainConfigJson.parse(TestFiles.bytes("{\"a\":[1e400]}"), "f"))
                .isInstanceOfSatisfying(LibxlConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(LibxlConfigException.Reason.MALFORMED))
                .hasMessageContaining("beyond double range");
    }

    @Test
    void yajlDoublesRefusesWhatYajlRefuses() {
        assertThatThrownBy(() -> YajlDoubles.format(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> YajlDoubles.format(Double.POSITIVE_INFINITY)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTopLevelScalarGetsTheFinalNewlineToo() throws Exception {
        JsonNode node = MAPPER.readTree("\"x\"");

        assertThat(TestFiles.text(YajlPrinter.print(node))).isEqualTo("\"x\"\n");
    }

    private static String print(String json) throws Exception {
        return TestFiles.text(YajlPrinter.print(DomainConfigJson.readTree(TestFiles.bytes(json))));
    }
}
