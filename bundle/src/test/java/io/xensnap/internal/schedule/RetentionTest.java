package io.xensnap.internal.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class RetentionTest {

    /** One snapshot every 6 hours for 20 days, from 2026-01-01 (a Thursday), in random-ish order. */
    private static List<Retention.Own> sixHourly() {
        List<Retention.Own> own = new ArrayList<>();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 0; i < 80; i++) {
            own.add(new Retention.Own("s" + i, t.plus(Duration.ofHours(6L * i))));
        }
        java.util.Collections.reverse(own);
        return own;
    }

    private static List<String> names(List<Retention.Own> own) {
        return own.stream().map(Retention.Own::name).toList();
    }

    @Test
    void keepLastDeletesTheRestOldestFirst() {
        List<Retention.Own> expired = new Retention(3, 0, 0).expired(sixHourly(), ZoneOffset.UTC);
        assertThat(expired).hasSize(77);
        assertThat(names(expired).subList(0, 3)).containsExactly("s0", "s1", "s2");
        assertThat(names(expired)).doesNotContain("s77", "s78", "s79");
    }

    @Test
    void dailyAndWeeklyKeepTheNewestOfEachPeriod() {
        List<Retention.Own> all = sixHourly();
        List<Retention.Own> expired = new Retention(1, 3, 2).expired(all, ZoneOffset.UTC);
        List<String> kept = new ArrayList<>(names(all));
        kept.removeAll(names(expired));
        // last: s79 (20 Jan 18:00); daily: s79, s75, s71 (20, 19, 18 Jan); weekly: s79 (week 4), s71 (Sun 18 Jan,
        // week 3)
        assertThat(kept).containsExactlyInAnyOrder("s79", "s75", "s71");
        List<String> weekly = new ArrayList<>(names(all));
        weekly.removeAll(names(new Retention(1, 0, 3).expired(all, ZoneOffset.UTC)));
        // week 4 (from Mon 19 Jan): s79; week 3 (12-18 Jan): s71; week 2 (5-11 Jan): s43 (11 Jan 18:00)
        assertThat(weekly).containsExactlyInAnyOrder("s79", "s71", "s43");
    }

    @Test
    void fewerThanKeptDeletesNothingAndKeepLastIsAtLeastOne() {
        assertThat(new Retention(5, 0, 0).expired(sixHourly().subList(0, 4), ZoneOffset.UTC)).isEmpty();
        assertThatThrownBy(() -> new Retention(0, 0, 0)).hasMessageContaining("keep.last must be at least 1");
    }
}
