package io.logtail.publish;

import java.time.Instant;

/**
 * What the publisher shows on the status port ({@code /status} "publisher", {@code /metrics}
 * {@code logtail_publisher_*}): an immutable snapshot, replaced after every cycle.
 *
 * @param ok whether the last cycle succeeded
 * @param seq the newest sequence number published
 * @param startedAt when the publisher started (stale since then until a first success)
 * @param checkedAt start of the last cycle, or null before the first
 * @param lastSuccessAt start of the last successful cycle, or null
 * @param staleSince start of the first failed cycle of the current failure run, or null when ok
 * @param lastError one line, or null when ok
 * @param lastCycleMs duration of the last cycle (query, render, writes)
 * @param lastQueryMs of which the snapshot's queries
 * @param lastWriteMs of which rendering, gzip and the writes of the results files
 * @param cycles cycles run
 * @param failures failed cycles
 * @param filesWritten files (not counting their .gz) written since start
 * @param ballots ballots in the last successful snapshot
 * @param cells cells in the last cells file written, or -1 before one
 */
public record PublisherState(boolean ok, long seq, Instant startedAt, Instant checkedAt, Instant lastSuccessAt,
    Instant staleSince, String lastError, double lastCycleMs, double lastQueryMs, double lastWriteMs, long cycles, long failures, long filesWritten,
    int ballots, long cells) {

  /** Seconds since the files last reflected the database: since the last success (or the start), at {@code now}. */
  public double staleSeconds(Instant now) {
    Instant since = lastSuccessAt != null ? lastSuccessAt : startedAt;
    return Math.max(0, (now.toEpochMilli() - since.toEpochMilli()) / 1000.0);
  }
}
