package io.logtail.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.logtail.tail.Source;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A batch has one byte range per stream (fingerprint), as {@code batch_ranges} has one row per
 * (node, batch, source). Found by CI's WorkerClockJumpIT: after a copytruncate the tailer read the rest
 * of a stream from its copy (another {@link Source} object, same fingerprint) within one batch, the batch
 * held two contiguous ranges of one source, and every attempt to commit it failed on
 * {@code batch_ranges_pkey}; the worker stopped.
 */
class BatchRangesTest {
  private final BatchPool pool = new BatchPool(3, 1 << 16);
  private final Map<Long, Integer> ids = Map.of(0xaaL, 1, 0xbbL, 2);
  private final Registry registry = new Registry() {
    @Override public int sourceId(Source s) { return ids.get(s.fingerprint()); }
    @Override public int ballotId(String b) { return 1; }
    @Override public boolean referenceDataLoaded() { return false; }
  };
  private final BatchBuilder b = new BatchBuilder(pool, registry, 1, 100_000, 1 << 20, Long.MAX_VALUE / 4,
      Long.MAX_VALUE / 4, () -> 0L);

  private Batch handOff() throws InterruptedException {
    b.handOff();
    return pool.pollFull(0, TimeUnit.MILLISECONDS);
  }

  @Test
  void aStreamThatGoesOnInItsCopyIsOneRangeNamingTheCopy() throws Exception {
    Source live = new Source(0xaa, 1, 10, Path.of("/x/access.log"), false);
    Source copy = new Source(0xaa, 1, 11, Path.of("/x/access.log.1"), false);   // copytruncate's copy
    Source other = new Source(0xbb, 1, 12, Path.of("/x/access.log.2"), false);
    b.skipped(live, 0, 100);
    b.skipped(other, 500, 600);
    b.skipped(live, 100, 250);
    b.skipped(copy, 250, 400);
    b.skipped(copy, 400, 410);
    Batch batch = handOff();
    assertEquals(2, batch.ranges().size(), batch.ranges().toString());
    Batch.Range r = batch.ranges().get(0);
    assertEquals(1, r.sourceId);
    assertEquals(0, r.start);
    assertEquals(410, r.end());
    assertSame(copy, r.source(), "the range names the file the stream was last read from");
    assertEquals(500, batch.ranges().get(1).start);
    assertEquals(600, batch.ranges().get(1).end());
  }

  @Test
  void aGapInAStreamAcrossItsCopyIsRefusedNotRecorded() throws Exception {
    Source live = new Source(0xaa, 1, 10, Path.of("/x/access.log"), false);
    Source copy = new Source(0xaa, 1, 11, Path.of("/x/access.log.1"), false);
    b.skipped(live, 0, 100);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.skipped(copy, 120, 130));
    assertEquals(true, e.getMessage().contains("gap or overlap"), e.getMessage());
  }
}
