package io.xensnap.internal.schedule;

import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Objects;

/**
 * A cron expression as crontab(5) writes it — minute, hour, day of month, month, day of week — with an optional
 * leading seconds field (six fields). Each field: {@code *}, a number, a range {@code a-b}, a step {@code * /n} or
 * {@code a-b/n}, or a comma list of those; day of week 0–7 with 0 and 7 Sunday. As in cron, when both day of month
 * and day of week are restricted (neither starts with {@code *}), a day matching either one fires. Names (JAN, MON)
 * and Quartz's {@code ? L W #} are not accepted: a schedule must mean the same to everyone who reads its file.
 *
 * @param text       the expression as given
 * @param seconds    the seconds it fires at (0 only with five fields)
 * @param minutes    the minutes, likewise each field below
 * @param hours      hours
 * @param days       days of month
 * @param months     months
 * @param weekdays   days of week, 0 Sunday
 * @param anyDay     the day-of-month field starts with {@code *}
 * @param anyWeekday the day-of-week field starts with {@code *}
 */
public record Cron(String text, BitSet seconds, BitSet minutes, BitSet hours, BitSet days, BitSet months,
                   BitSet weekdays, boolean anyDay, boolean anyWeekday) {

    /** How far {@link #next} looks: a date like 30 February never comes, and must not loop forever. */
    private static final int HORIZON_YEARS = 5;

    public Cron {
        Objects.requireNonNull(text, "text");
    }

    /** @throws IllegalArgumentException naming the field that is wrong */
    public static Cron parse(String text) {
        String[] f = text == null ? new String[0] : text.trim().split("\\s+");
        if (f.length != 5 && f.length != 6) {
            throw new IllegalArgumentException("cron expression '" + text + "' has " + f.length + " fields; 5"
                    + " (minute hour day-of-month month day-of-week) or 6 (with seconds first) are needed");
        }
        int o = f.length - 5;
        BitSet weekdays = field(f[o + 4], 0, 7, "day of week");
        if (weekdays.get(7)) {
            weekdays.set(0);
        }
        return new Cron(text.trim(), o == 1 ? field(f[0], 0, 59, "second") : BitSet.valueOf(new long[] {1}),
                field(f[o], 0, 59, "minute"), field(f[o + 1], 0, 23, "hour"), field(f[o + 2], 1, 31, "day of month"),
                field(f[o + 3], 1, 12, "month"), weekdays, f[o + 2].startsWith("*"), f[o + 4].startsWith("*"));
    }

    /**
     * @return the first time strictly after {@code after} that matches, in {@code zone}; a local time that a daylight
     *         saving change skips is moved forward by the length of the gap, as {@link ZonedDateTime#of} does
     * @throws IllegalStateException when nothing matches within five years (such as 30 February)
     */
    public ZonedDateTime next(ZonedDateTime after, ZoneId zone) {
        LocalDateTime t = after.withZoneSameInstant(zone).toLocalDateTime().truncatedTo(ChronoUnit.SECONDS)
                .plusSeconds(1);
        LocalDateTime end = t.plusYears(HORIZON_YEARS);
        while (t.isBefore(end)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).truncatedTo(ChronoUnit.DAYS).plusMonths(1);
            } else if (!dayMatches(t)) {
                t = t.truncatedTo(ChronoUnit.DAYS).plusDays(1);
            } else if (!hours.get(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!minutes.get(t.getMinute())) {
                t = t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
            } else if (!seconds.get(t.getSecond())) {
                t = t.plusSeconds(1);
            } else {
                ZonedDateTime z = ZonedDateTime.of(t, zone);
                // a time in a repeated hour (autumn) exists twice: the first one that is still ahead counts
                if (z.isAfter(after)) {
                    return z;
                }
                t = t.plusSeconds(1);
            }
        }
        throw new IllegalStateException("cron expression '" + text + "' never fires");
    }

    private boolean dayMatches(LocalDateTime t) {
        boolean day = days.get(t.getDayOfMonth());
        boolean weekday = weekdays.get(t.getDayOfWeek().getValue() % 7);
        if (anyDay || anyWeekday) {
            return day && weekday;
        }
        return day || weekday;
    }

    private static BitSet field(String text, int min, int max, String name) {
        BitSet bits = new BitSet(max + 1);
        for (String part : text.split(",", -1)) {
            try {
                part(bits, part, min, max);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cron " + name + " field '" + text + "': '" + part
                        + "' is not a number, range or step");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cron " + name + " field '" + text + "': " + e.getMessage());
            }
        }
        return bits;
    }

    private static void part(BitSet bits, String part, int min, int max) {
        int slash = part.indexOf('/');
        String range = slash < 0 ? part : part.substring(0, slash);
        int step = slash < 0 ? 1 : Integer.parseInt(part.substring(slash + 1));
        int from;
        int to;
        if (range.equals("*")) {
            from = min;
            to = max;
        } else if (range.indexOf('-') > 0) {
            from = Integer.parseInt(range.substring(0, range.indexOf('-')));
            to = Integer.parseInt(range.substring(range.indexOf('-') + 1));
        } else {
            from = Integer.parseInt(range);
            to = slash < 0 ? from : max;
        }
        if (from < min || to > max || from > to || step < 1) {
            throw new IllegalArgumentException("'" + part + "' is outside " + min + "-" + max + " or empty");
        }
        for (int v = from; v <= to; v += step) {
            bits.set(v);
        }
    }
}
