package io.logtail.binlog;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which records {@link Binlog#read(BinlogFilter)} returns. Immutable; start from {@link #all()}. Every condition
 * set must hold:
 * <ul>
 *   <li>commit time in {@code [timeFrom, timeTo)} (microseconds since the epoch; a {@code timeTo} of
 *       {@link Long#MAX_VALUE} means no upper bound);</li>
 *   <li>batch id in {@code [batchFrom, batchTo]} (both inclusive);</li>
 *   <li>{@code node} equal;</li>
 *   <li>kind among {@code kinds};</li>
 *   <li>{@code pathContains}: some range's path contains the substring;</li>
 *   <li>{@code fingerprint}: some range has that fingerprint.</li>
 * </ul>
 * A REWIND record has no ranges, so a path or fingerprint filter leaves it out.
 */
public record BinlogFilter(long timeFromMicros, long timeToMicros, long batchFrom, long batchTo, String node,
                           Set<RecordKind> kinds, String pathContains, Long fingerprint) {

    public BinlogFilter {
        kinds = kinds == null || kinds.isEmpty() ? EnumSet.allOf(RecordKind.class) : EnumSet.copyOf(kinds);
    }

    public static BinlogFilter all() {
        return new BinlogFilter(Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE, null, null, null, null);
    }

    /** Records committed at or after {@code from} and before {@code to}; either may be null (open). */
    public BinlogFilter time(Instant from, Instant to) {
        return new BinlogFilter(from == null ? Long.MIN_VALUE : micros(from), to == null ? Long.MAX_VALUE : micros(to),
                batchFrom, batchTo, node, kinds, pathContains, fingerprint);
    }

    public BinlogFilter timeMicros(long fromInclusive, long toExclusive) {
        return new BinlogFilter(fromInclusive, toExclusive, batchFrom, batchTo, node, kinds, pathContains, fingerprint);
    }

    public BinlogFilter batches(long fromInclusive, long toInclusive) {
        return new BinlogFilter(timeFromMicros, timeToMicros, fromInclusive, toInclusive, node, kinds, pathContains,
                fingerprint);
    }

    public BinlogFilter node(String n) {
        return new BinlogFilter(timeFromMicros, timeToMicros, batchFrom, batchTo, n, kinds, pathContains, fingerprint);
    }

    public BinlogFilter kinds(Set<RecordKind> k) {
        return new BinlogFilter(timeFromMicros, timeToMicros, batchFrom, batchTo, node, k, pathContains, fingerprint);
    }

    public BinlogFilter pathContains(String s) {
        return new BinlogFilter(timeFromMicros, timeToMicros, batchFrom, batchTo, node, kinds, s, fingerprint);
    }

    public BinlogFilter fingerprint(Long fp) {
        return new BinlogFilter(timeFromMicros, timeToMicros, batchFrom, batchTo, node, kinds, pathContains, fp);
    }

    public boolean test(BinlogRecord r) {
        if (r.commitTimeMicros() < timeFromMicros
                || (timeToMicros != Long.MAX_VALUE && r.commitTimeMicros() >= timeToMicros)) {
            return false;
        }
        if (r.batchId() < batchFrom || r.batchId() > batchTo) {
            return false;
        }
        if (node != null && !node.equals(r.node())) {
            return false;
        }
        if (!kinds.contains(r.kind())) {
            return false;
        }
        if (pathContains != null || fingerprint != null) {
            for (Range range : r.ranges()) {
                boolean pathOk = pathContains == null || range.path().contains(pathContains);
                boolean fpOk = fingerprint == null || range.fingerprint() == fingerprint;
                if (pathOk && fpOk) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000);
    }
}
