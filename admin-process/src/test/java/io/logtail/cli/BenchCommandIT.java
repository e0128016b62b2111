package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logtail.db.TestDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code logtail bench --rate}: a short run (2,000 lines/s for 5 s, then a 2 s restart) on the test
 * server reports sane figures: every line committed, the counts the generator expects, latencies and
 * CPU above zero and ordered, start times measured.
 */
class BenchCommandIT {
  @TempDir Path dir;

  @Test
  void rateModeReportsLatencyCpuAndStartTimes() throws Exception {
    String url = TestDatabase.server().jdbcUrl("postgres");
    CliTestSupport.Run r = CliTestSupport.run("bench", "--rate", "2000", "--duration", "5", "--restart", "2",
        "--work-dir", dir.toString(), "--db-url", url, "--timeout", "3m", "--json");
    assertEquals(0, r.exit(), r.err() + r.out());
    JsonNode j = new ObjectMapper().readTree(r.out());
    String all = r.out() + "\n" + r.err();
    long written = j.path("linesWritten").asLong();
    assertTrue(written >= 8_000 && written <= 10_100, "about 2000 lines/s for 5 s: " + all);
    assertEquals(written, j.path("linesCommitted").asLong(), all);
    assertTrue(j.path("allCommitted").asBoolean(), all);
    assertTrue(j.path("countsMatch").asBoolean(), all);
    double p50 = j.path("p50Ms").asDouble();
    double p99 = j.path("p99Ms").asDouble();
    double max = j.path("maxMs").asDouble();
    assertTrue(j.path("minMs").asDouble() > 0, "a commit comes after the write: " + all);
    assertTrue(p50 > 0 && p50 <= p99 && p99 <= max && max < 60_000, all);
    assertTrue(j.path("cpuSeconds").asDouble() > 0 && j.path("cpuPercent").asDouble() > 0, all);
    assertTrue(j.path("peakRssMB").asDouble() > 10, all);
    assertTrue(j.path("coldStartSeconds").asDouble() > 0 && j.path("coldStartSeconds").asDouble() < 120, all);
    assertTrue(j.path("restartSeconds").asDouble() > 0 && j.path("restartSeconds").asDouble() < 120, all);
    assertTrue(j.path("restartLines").asLong() > 0, all);
  }

  @Test
  void badRateOptionsExit2() {
    assertEquals(2, CliTestSupport.run("bench", "--rate", "0", "--work-dir", dir.toString()).exit());
    assertEquals(2, CliTestSupport.run("bench", "--rate", "100", "--duration", "soon", "--work-dir",
        dir.toString()).exit());
  }
}
