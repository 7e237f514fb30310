package io.xensnap.internal.schedule;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Which of a schedule's own snapshots of one domain to keep: the newest {@code keepLast}, and besides them the newest
 * of each of the last {@code keepDaily} days and {@code keepWeekly} ISO weeks that have one (days and weeks in the
 * schedule's time zone). Everything else of its own goes, oldest first.
 *
 * @param keepLast   at least 1: the snapshot just taken is never deleted by its own run
 * @param keepDaily  0 for none
 * @param keepWeekly 0 for none
 */
public record Retention(int keepLast, int keepDaily, int keepWeekly) {

    public Retention {
        if (keepLast < 1 || keepDaily < 0 || keepWeekly < 0) {
            throw new IllegalArgumentException("keep.last must be at least 1, keep.daily and keep.weekly at least 0");
        }
    }

    /** One snapshot a schedule made. */
    public record Own(String name, Instant created) {
    }

    /** @return the snapshots of {@code own} to delete, oldest first */
    public List<Own> expired(List<Own> own, ZoneId zone) {
        List<Own> newestFirst = own.stream().sorted(Comparator.comparing(Own::created).reversed()).toList();
        Set<Own> keep = new LinkedHashSet<>(newestFirst.subList(0, Math.min(keepLast, newestFirst.size())));
        keep.addAll(newestPer(newestFirst, keepDaily, o -> LocalDate.ofInstant(o.created(), zone)));
        keep.addAll(newestPer(newestFirst, keepWeekly, o -> {
            LocalDate d = LocalDate.ofInstant(o.created(), zone);
            return d.get(IsoFields.WEEK_BASED_YEAR) * 100 + d.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
        }));
        List<Own> expired = new ArrayList<>(newestFirst);
        expired.removeAll(keep);
        expired.sort(Comparator.comparing(Own::created));
        return expired;
    }

    /** @return the newest snapshot of each of the {@code periods} newest periods that have one */
    private static List<Own> newestPer(List<Own> newestFirst, int periods, Function<Own, Object> period) {
        List<Own> out = new ArrayList<>();
        Set<Object> seen = new HashSet<>();
        for (Own o : newestFirst) {
            if (seen.size() == periods) {
                break;
            }
            if (seen.add(period.apply(o))) {
                out.add(o);
            }
        }
        return out;
    }
}
