package io.logtail.binlog;

/**
 * What a batch held. All counts are non-negative.
 *
 * @param lines       lines read in the batch's ranges
 * @param votes       vote events inserted
 * @param canvass     canvass (doorstep visit) events inserted
 * @param rejects     lines that did not parse or failed validation
 * @param skipped     lines skipped on purpose (not beacons, health checks, ...)
 * @param duplicates  events already in the database (same key), not inserted again
 * @param retransmits beacons re-sent by a client and recognised as such
 */
public record Counts(long lines, long votes, long canvass, long rejects, long skipped, long duplicates,
                     long retransmits) {
    public static final Counts ZERO = new Counts(0, 0, 0, 0, 0, 0, 0);

    public Counts {
        if (lines < 0 || votes < 0 || canvass < 0 || rejects < 0 || skipped < 0 || duplicates < 0 || retransmits < 0) {
            throw new IllegalArgumentException("negative count in " + this);
        }
    }
}
