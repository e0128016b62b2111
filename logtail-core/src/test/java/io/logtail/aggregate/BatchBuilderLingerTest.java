package io.logtail.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.logtail.tail.Source;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The hand-over rules of {@link BatchBuilder#tick()}: at the flush interval always; at the linger time
 * only while the flusher is idle (group commit). Time is a fake ticker.
 */
class BatchBuilderLingerTest {
  private static final long MS = 1_000_000L;
  private final long[] now = {0};
  private final BatchPool pool = new BatchPool(3, 1 << 16);
  private final Source src = new Source(1, 2, 3, Path.of("/x/access.log"), false);
  private final Registry registry = new Registry() {
    @Override public int sourceId(Source s) { return 1; }
    @Override public int ballotId(String b) { return 1; }
    @Override public boolean referenceDataLoaded() { return false; }
  };
  private long offset;

  private BatchBuilder builder(long flushMs, long lingerMs) {
    return new BatchBuilder(pool, registry, 1, 100_000, 1 << 20, flushMs * MS, lingerMs * MS, () -> now[0]);
  }

  private void line(BatchBuilder b) throws InterruptedException {
    b.skipped(src, offset, offset + 10);
    offset += 10;
  }

  @Test
  void lingerHandsOverOnlyWhileTheFlusherIsIdle() throws Exception {
    BatchBuilder b = builder(250, 50);
    line(b);
    now[0] = 49 * MS;
    b.tick();
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS), "younger than the linger time: kept");
    now[0] = 50 * MS;
    b.tick();
    Batch first = pool.pollFull(0, TimeUnit.MILLISECONDS);
    assertNotNull(first, "flusher idle and the batch lingered 50 ms: handed over");

    // the flusher is now committing `first`: the next batch waits for the flush interval
    line(b);
    now[0] = 250 * MS;
    b.tick();
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS), "flusher busy: kept past the linger time");
    now[0] = 300 * MS;
    b.tick();
    Batch second = pool.pollFull(0, TimeUnit.MILLISECONDS);
    assertNotNull(second, "flush interval reached: handed over although the flusher is busy");
    assertEquals(1, second.lines());
    pool.recycle(first);
    pool.recycle(second);
  }

  @Test
  void aBusyFlusherFreedLetsTheLingeringBatchGo() throws Exception {
    BatchBuilder b = builder(250, 50);
    line(b);
    now[0] = 60 * MS;
    b.tick();
    Batch first = pool.pollFull(0, TimeUnit.MILLISECONDS);
    line(b);
    now[0] = 200 * MS;
    b.tick();
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS));
    pool.recycle(first); // the commit is done
    b.tick();
    assertNotNull(pool.pollFull(0, TimeUnit.MILLISECONDS), "idle again: the lingering batch goes at once");
  }

  @Test
  void withinALongPassTheLingerRuleIsCheckedEvery1024Lines() throws Exception {
    BatchBuilder b = builder(250, 50);
    line(b);
    now[0] = 60 * MS; // no tick: the tailer is in the middle of a long pass over a backlog
    for (int i = 2; i < BatchBuilder.LINGER_CHECK_LINES; i++) {
      line(b);
    }
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS));
    line(b);
    Batch first = pool.pollFull(0, TimeUnit.MILLISECONDS);
    assertNotNull(first, "handed over at the 1024th line");
    assertEquals(BatchBuilder.LINGER_CHECK_LINES, first.lines());
    for (int i = 0; i < 3 * BatchBuilder.LINGER_CHECK_LINES; i++) {
      line(b);
    }
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS), "flusher busy: the next batch keeps filling");
    pool.recycle(first);
  }

  @Test
  void lingerEqualToTheFlushIntervalIsTheOldRule() throws Exception {
    BatchBuilder b = builder(250, 250);
    line(b);
    now[0] = 249 * MS;
    b.tick();
    assertNull(pool.pollFull(0, TimeUnit.MILLISECONDS));
    now[0] = 250 * MS;
    b.tick();
    assertNotNull(pool.pollFull(0, TimeUnit.MILLISECONDS));
  }

  @Test
  void lingerLongerThanTheFlushIntervalIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> builder(100, 200));
  }
}
