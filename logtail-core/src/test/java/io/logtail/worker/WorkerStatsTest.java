package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logtail.flush.BatchResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The commit rate follows the monotonic ticker: commit times (wall clock) set back or forward change nothing. */
class WorkerStatsTest {
  private static final long HOUR_MICROS = 3_600_000_000L;

  @Test
  void rateIsMeasuredOnTheMonotonicTickerWhateverTheWallClockDoes() {
    AtomicLong nanos = new AtomicLong(7_000_000_000L);
    WorkerStats s = new WorkerStats(nanos::get);
    long wall = 1_780_000_000_000_000L;
    s.committed(result(1, 1000, wall));
    nanos.addAndGet(500_000_000L);
    s.committed(result(2, 1000, wall - HOUR_MICROS));      // the wall clock set back an hour
    nanos.addAndGet(500_000_000L);
    s.committed(result(3, 1000, wall - HOUR_MICROS + 1));
    assertEquals(3000.0, s.rowsPerSecond(), 1e-9, "3 000 lines in 1 s of monotonic time, not frozen");
    nanos.addAndGet(2_000_000_000L);
    s.committed(result(4, 4000, wall + 24 * HOUR_MICROS));   // and forward a day
    assertEquals(2000.0, s.rowsPerSecond(), 1e-9, "4 000 lines in 2 s, not spread over a day");
    assertEquals(wall + 24 * HOUR_MICROS, s.lastCommitMicros.get(), "the commit time itself is the wall clock's");
  }

  private static BatchResult result(long id, int lines, long commitMicros) {
    return new BatchResult(id, List.of(), lines, lines, 0, 0, 0, 0, 0, 0, commitMicros, 1_000_000L);
  }
}
