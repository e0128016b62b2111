package io.logtail.worker;

import io.logtail.aggregate.Batch;
import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogRecord;
import io.logtail.binlog.Counts;
import io.logtail.binlog.Range;
import io.logtail.flush.BatchResult;
import io.logtail.flush.CommitListener;
import io.logtail.util.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends a record to the binlog after every commit, on the flusher thread (the binlog's one writer),
 * and syncs it on the configured cadence and at close. A failed append stops the worker: the batch is
 * committed, so nothing is lost, and the next start heals the binlog from the database.
 */
public final class BinlogWriter implements CommitListener, AutoCloseable {
  private final Binlog binlog;
  private final String node;
  private volatile long lastBatchId;
  private volatile long syncedAtMillis;

  private BinlogWriter(Binlog binlog, String node) {
    this.binlog = binlog;
    this.node = node;
  }

  public static BinlogWriter open(Path dir, String node, Duration syncEvery, Ticker ticker) {
    Binlog b = Binlog.open(dir, BinlogConfig.defaults().withSyncEvery(syncEvery));
    return new BinlogWriter(b, node);
  }

  public Binlog binlog() {
    return binlog;
  }

  @Override
  public void committed(BatchResult r) {
    List<Range> ranges = new ArrayList<>(r.ranges().size());
    for (Batch.Range br : r.ranges()) {
      ranges.add(new Range(br.source().fingerprint(), br.source().device(), br.source().inode(),
          br.source().path().toString(), br.start, br.end()));
    }
    binlog.append(BinlogRecord.batch(r.batchId(), node, r.commitTimeMicros(), ranges,
        new Counts(r.lines(), r.votes(), r.canvass(), r.rejects(), r.skipped(), r.duplicates(), r.retransmits())));
    lastBatchId = r.batchId();
    if (binlog.syncIfDue()) {
      syncedAtMillis = System.currentTimeMillis();
    }
  }

  public void append(BinlogRecord r) {
    binlog.append(r);
    lastBatchId = Math.max(lastBatchId, r.batchId());
  }

  public void sync() {
    binlog.sync();
    syncedAtMillis = System.currentTimeMillis();
  }

  public long lastBatchId() {
    return lastBatchId;
  }

  public long syncedAtMillis() {
    return syncedAtMillis;
  }

  @Override
  public void close() {
    try {
      binlog.sync();
    } finally {
      binlog.close();
    }
  }
}
