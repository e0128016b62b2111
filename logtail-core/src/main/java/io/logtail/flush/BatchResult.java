package io.logtail.flush;

import io.logtail.aggregate.Batch;
import java.util.List;

/** What one committed batch did, for the binlog, status and tests. */
public record BatchResult(
    long batchId,
    List<Batch.Range> ranges,
    int lines,
    int votes,
    int duplicates,
    int retransmits,
    int canvass,
    int resends,
    int rejects,
    int skipped,
    long commitTimeMicros,
    long elapsedNanos) {

  /** Events now in the database: counted votes and stored canvass records. */
  public int committedEvents() {
    return votes + canvass;
  }
}
