package io.logtail.worker;

import io.logtail.flush.BatchResult;
import io.logtail.flush.CommitListener;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of committed work, updated by the flusher after each commit (a single writer) and read by
 * the status port from any thread.
 */
public final class WorkerStats implements CommitListener {
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
  private long windowStartMicros;
  private long windowRows;

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
      committedEnd.merge(range.source.fingerprint(), range.end(), Math::max);
    }
    if (windowStartMicros == 0) {
      windowStartMicros = r.commitTimeMicros();
    }
    windowRows += r.lines();
    long span = r.commitTimeMicros() - windowStartMicros;
    if (span >= 1_000_000) {
      rowsPerSecond = windowRows * 1e6 / span;
      windowStartMicros = r.commitTimeMicros();
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
