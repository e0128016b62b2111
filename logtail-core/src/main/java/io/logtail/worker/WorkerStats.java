package io.logtail.worker;

import io.logtail.flush.BatchResult;
import io.logtail.flush.CommitListener;
import io.logtail.util.Ticker;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of committed work, updated by the flusher after each commit (a single writer) and read by
 * the status port from any thread. The rate's window is measured on the monotonic {@link Ticker}, not on
 * the commits' wall-clock times: a clock set back would otherwise freeze {@code rows_per_s} until the
 * clock caught up again (an hour, for an hour back).
 */
public final class WorkerStats implements CommitListener {
  private final Ticker ticker;
  public final AtomicLong lines = new AtomicLong();
  public final AtomicLong votes = new AtomicLong();
  public final AtomicLong canvass = new AtomicLong();
  public final AtomicLong rejected = new AtomicLong();
  public final AtomicLong skipped = new AtomicLong();
  public final AtomicLong retransmits = new AtomicLong();
  public final AtomicLong duplicates = new AtomicLong();
  public final AtomicLong resends = new AtomicLong();
  public final AtomicLong batches = new AtomicLong();
  public final AtomicLong lastBatchId = new AtomicLong();
  public final AtomicLong lastCommitMicros = new AtomicLong();
  public final AtomicLong lastBatchNanos = new AtomicLong();
  public final AtomicLong bytes = new AtomicLong();
  /** Per stream (fingerprint): the end of the highest byte range committed by this worker. */
  public final java.util.concurrent.ConcurrentHashMap<Long, Long> committedEnd =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile double rowsPerSecond;
  private long windowStartNanos;
  private boolean windowOpen;
  private long windowRows;

  public WorkerStats() {
    this(Ticker.system());
  }

  public WorkerStats(Ticker ticker) {
    this.ticker = ticker;
  }

  @Override
  public void committed(BatchResult r) {
    lines.addAndGet(r.lines());
    votes.addAndGet(r.votes());
    canvass.addAndGet(r.canvass());
    rejected.addAndGet(r.rejects());
    skipped.addAndGet(r.skipped());
    retransmits.addAndGet(r.retransmits());
    duplicates.addAndGet(r.duplicates());
    resends.addAndGet(r.resends());
    batches.incrementAndGet();
    lastBatchId.set(r.batchId());
    lastCommitMicros.set(r.commitTimeMicros());
    lastBatchNanos.set(r.elapsedNanos());
    for (var range : r.ranges()) {
      bytes.addAndGet(range.end() - range.start);
      committedEnd.merge(range.source().fingerprint(), range.end(), Math::max);
    }
    long now = ticker.nanos();
    if (!windowOpen) {
      windowStartNanos = now;
      windowOpen = true;
    }
    windowRows += r.lines();
    long span = now - windowStartNanos;
    if (span >= 1_000_000_000L) {
      rowsPerSecond = windowRows * 1e9 / span;
      windowStartNanos = now;
      windowRows = 0;
    }
  }

  /** Lines committed per second over the last window of at least one second. */
  public double rowsPerSecond() {
    return rowsPerSecond;
  }

  public long committedEvents() {
    return votes.get() + canvass.get();
  }
}
