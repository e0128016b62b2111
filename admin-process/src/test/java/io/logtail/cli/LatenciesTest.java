package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Per-line latency from the appender's chunks and the binlog's committed ranges. */
class LatenciesTest {
  @Test
  void eachLineTakesTheFirstCommitCoveringItsEnd() {
    // 100 bytes before the run; chunk 1: lines of 10+20 bytes written at t=1000 µs, ending at 130;
    // chunk 2: one line of 30 bytes at t=2000, ending at 160; chunk 3: 10 bytes at t=2500, ending at 170
    PacedAppender.Written w = new PacedAppender.Written(100, 170, new long[] {130, 160, 170},
        new long[] {1000, 2000, 2500}, new int[] {10, 20, 30, 10}, 1.0, 0.0);
    // commits: [.., 110) at 1500 (the first line only), [110, 160) at 2600; nothing covers 170 yet
    Latencies l = Latencies.of(w, new long[] {50, 110, 160}, new long[] {900, 1500, 2600});
    assertArrayEquals(new long[] {500, 600, 1600}, l.sortedMicros());
    assertEquals(1, l.uncommitted());
    assertEquals(0, l.overOneSecond());
    assertEquals(0.6, l.percentileMillis(0.5), 1e-9);
    assertEquals(1.6, l.percentileMillis(0.99), 1e-9);
    assertEquals(1.6, l.maxMillis(), 1e-9);
  }

  @Test
  void overOneSecondCountsLinesNotBatches() {
    PacedAppender.Written w = new PacedAppender.Written(0, 30, new long[] {30}, new long[] {0},
        new int[] {10, 10, 10}, 1.0, 0.0);
    Latencies l = Latencies.of(w, new long[] {30}, new long[] {1_200_000});
    assertEquals(3, l.overOneSecond());
    assertEquals(3, l.committed());
    assertEquals(1200.0, l.percentileMillis(0.5), 1e-9);
  }

  @Test
  void durationsInSecondsOrWithAUnit() {
    assertEquals(60_000, RateBench.parseSeconds("60", "--duration").toMillis());
    assertEquals(1_500, RateBench.parseSeconds("1.5", "--duration").toMillis());
    assertEquals(120_000, RateBench.parseSeconds("2m", "--duration").toMillis());
    assertEquals(500, RateBench.parseSeconds("500ms", "--duration").toMillis());
  }
}
