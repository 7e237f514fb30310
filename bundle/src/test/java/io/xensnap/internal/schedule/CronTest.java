package io.xensnap.internal.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

import org.junit.jupiter.api.Test;

class CronTest {

    private static final ZoneId UTC = ZoneOffset.UTC;

    private static ZonedDateTime at(String iso) {
        return ZonedDateTime.parse(iso);
    }

    @Test
    void fiveFieldsFireOnTheMinuteAndSixOnTheSecond() {
        assertThat(Cron.parse("0 2 * * *").next(at("2026-01-01T02:00:00Z"), UTC)).isEqualTo(at("2026-01-02T02:00Z"));
        assertThat(Cron.parse("*/15 * * * *").next(at("2026-01-01T02:07:30Z"), UTC))
                .isEqualTo(at("2026-01-01T02:15Z"));
        assertThat(Cron.parse("*/3 * * * * *").next(at("2026-01-01T02:00:00.500Z"), UTC))
                .isEqualTo(at("2026-01-01T02:00:03Z"));
        assertThat(Cron.parse("0 0 1-2,5 * *").next(at("2026-01-02T00:00:00Z"), UTC))
                .isEqualTo(at("2026-01-05T00:00Z"));
        assertThat(Cron.parse("30 4 * 3 *").next(at("2026-05-01T00:00:00Z"), UTC))
                .isEqualTo(at("2027-03-01T04:30Z"));
    }

    @Test
    void dayOfMonthAndDayOfWeekBothRestrictedMeanEither() {
        // 2026-01-01 is a Thursday; the 13th or any Monday (1), as cron reads it
        Cron c = Cron.parse("0 0 13 * 1");
        assertThat(c.next(at("2026-01-01T00:00:00Z"), UTC)).isEqualTo(at("2026-01-05T00:00Z"));
        assertThat(c.next(at("2026-01-12T00:00:00Z"), UTC)).isEqualTo(at("2026-01-13T00:00Z"));
        // only the weekday restricted: Sundays, as 0 and as 7
        assertThat(Cron.parse("0 0 * * 7").next(at("2026-01-01T00:00:00Z"), UTC)).isEqualTo(at("2026-01-04T00:00Z"));
        assertThat(Cron.parse("0 0 * * 0").next(at("2026-01-01T00:00:00Z"), UTC)).isEqualTo(at("2026-01-04T00:00Z"));
    }

    @Test
    void theTimeZoneIsTheConfiguredOneAcrossDaylightSaving() {
        ZoneId paris = ZoneId.of("Europe/Paris");
        Cron daily = Cron.parse("0 2 * * *");
        // winter: 02:00 in Paris is 01:00 UTC
        assertThat(daily.next(at("2026-01-01T12:00:00Z"), paris).toInstant()).isEqualTo(at("2026-01-02T01:00Z")
                .toInstant());
        // 29 March 2026: 02:00 does not exist in Paris, moved forward by the gap (03:00 CEST = 01:00 UTC)
        assertThat(daily.next(at("2026-03-28T12:00:00Z"), paris).toInstant()).isEqualTo(at("2026-03-29T01:00Z")
                .toInstant());
        // summer: 02:00 CEST is 00:00 UTC
        assertThat(daily.next(at("2026-03-29T12:00:00Z"), paris).toInstant()).isEqualTo(at("2026-03-30T00:00Z")
                .toInstant());
    }

    @Test
    void badExpressionsAreNamedAndAnImpossibleDateNeverFires() {
        assertThatThrownBy(() -> Cron.parse("0 2 * *")).hasMessageContaining("has 4 fields");
        assertThatThrownBy(() -> Cron.parse("61 * * * *")).hasMessageContaining("cron minute field '61'");
        assertThatThrownBy(() -> Cron.parse("0 2 * JAN *")).hasMessageContaining("month field 'JAN'");
        assertThatThrownBy(() -> Cron.parse("0 2 ? * 1-5")).hasMessageContaining("day of month field '?'");
        assertThatThrownBy(() -> Cron.parse("*/0 * * * *")).hasMessageContaining("minute");
        assertThatThrownBy(() -> Cron.parse(null)).hasMessageContaining("has 0 fields");
        assertThatThrownBy(() -> Cron.parse("0 0 30 2 *").next(at("2026-01-01T00:00:00Z"), UTC))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("never fires");
    }
}
