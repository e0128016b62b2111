package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.reference.RollLoader;
import io.logtail.util.Ticker;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated log of votes (duplicates, re-sends, voters off the roll), canvass records (re-sends),
 * ordinary traffic and bad lines, ingested by a real worker into a real PostgreSQL, ends exactly as
 * computed independently from the log.
 */
class PipelineIT {
  @TempDir Path dir;

  @Test
  void generatedLogEndsExactlyAsComputed() throws Exception {
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.voters = 5_000; // small pool: many duplicates
    mix.roll = true;
    mix.offRollShare = 0.03;
    LogGenerator gen = new LogGenerator(42, mix);
    Path log = dir.resolve("access.log");
    Path roll = dir.resolve("roll.txt");
    try (OutputStream o = Files.newOutputStream(roll)) {
      gen.writeRoll(o);
    }
    try (Database db = TestDatabase.fresh("pipeline");
        FakeNginx nginx = new FakeNginx(log)) {
      long loaded = RollLoader.load(db.dataSource(), roll, "*");
      assertEquals(java.util.stream.IntStream.range(0, mix.voters).filter(gen::onRoll).count(), loaded, "roll rows");
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < 60_000; i++) {
        sb.append(gen.nextLine());
        if (i == 30_000) {
          nginx.write(sb.toString());
          sb.setLength(0);
        }
      }
      nginx.write(sb.toString());
      // a partial last line is not an event until its newline arrives
      nginx.write("10.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /news HTTP/1.1\" 200 1 \"-\" \"x\"");

      WorkerConfig cfg = new WorkerConfig().node("it-1").addLog(dir.resolve("access.log*").toString())
          .binlogDir(dir.resolve("binlog")).flushInterval(Duration.ofMillis(50)).batchMaxLines(7_000);
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      w.start();
      try {
        long total = nginx.written();
        long partial = "10.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /news HTTP/1.1\" 200 1 \"-\" \"x\"".length();
        DbAssert.await(Duration.ofSeconds(60), "all complete lines committed",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total - partial);
        assertNull(w.failure());
      } finally {
        w.close();
      }
      DbAssert.assertMatches(db.dataSource(), gen.expected());
    }
  }
}
