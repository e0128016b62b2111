package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogRecord;
import io.logtail.binlog.Counts;
import io.logtail.binlog.Range;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BinlogDumpCommandTest {
  @TempDir Path dataDir;

  private static final long T0 = 1_795_424_400_000_000L; // 2026-11-23T09:00:00Z

  @BeforeEach
  void writeBinlog() {
    try (Binlog b = Binlog.open(dataDir.resolve("binlog"), BinlogConfig.defaults())) {
      b.append(BinlogRecord.batch(1, "n1", T0, List.of(
          new Range(0xdeadbeefL, 2049, 131, "/var/log/nginx/access.log", 0, 1000)),
          new Counts(10, 8, 1, 1, 0, 0, 0)));
      b.append(BinlogRecord.batch(2, "n1", T0 + 60_000_000L, List.of(
          new Range(0xdeadbeefL, 2049, 131, "/var/log/nginx/access.log", 1000, 2500),
          new Range(0x1234L, 2049, 140, "/var/log/nginx/other.log", 0, 300)),
          new Counts(20, 15, 5, 0, 0, 0, 0)));
      b.append(BinlogRecord.rewind(3, "n1", T0 + 120_000_000L, 2, 1));
    }
  }

  @Test
  void printsEveryRecordAsText() {
    CliTestSupport.Run r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("#1 BATCH node=n1 at 2026-11-23T09:00:00Z lines=10 votes=8"), r.out());
    assertTrue(r.out().contains("  /var/log/nginx/access.log [0,1000) fp=0x00000000deadbeef dev=2049 ino=131"), r.out());
    assertTrue(r.out().contains("  /var/log/nginx/other.log [0,300) fp=0x0000000000001234"), r.out());
    assertTrue(r.out().contains("#3 REWIND node=n1 at 2026-11-23T09:02:00Z from=2 to=1"), r.out());
    assertTrue(r.err().contains("3 record(s) printed, 0 corrupt record(s) skipped"), r.err());
  }

  @Test
  void filtersCombine() {
    CliTestSupport.Run r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--batch", "2-3",
        "--file", "other");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("#2 BATCH"), r.out());
    assertFalse(r.out().contains("#1 "), r.out());
    assertFalse(r.out().contains("#3 "), r.out());
    assertTrue(r.err().contains("1 record(s) printed"), r.err());

    r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--fingerprint", "00000000DEADBEEF",
        "--from", "2026-11-23T08:59:00Z", "--to", "2026-11-23T09:01:30Z");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("#1 BATCH") && r.out().contains("#2 BATCH") && !r.out().contains("REWIND"), r.out());
  }

  @Test
  void json() {
    CliTestSupport.Run r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--json",
        "--batch", "1");
    assertEquals(0, r.exit(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(1, lines.length, r.out());
    assertTrue(lines[0].startsWith("{") && lines[0].contains("\"batch\":1,\"kind\":\"BATCH\",\"node\":\"n1\""), lines[0]);
    assertTrue(lines[0].contains("\"fingerprint\":\"00000000deadbeef\""), lines[0]);
  }

  @Test
  void badOptionsSayWhatToDo() {
    CliTestSupport.Run r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--batch", "x-y");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--batch must be A-B"), r.err());
    r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--from", "yesterday");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("ISO-8601"), r.err());
    r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.toString(), "--fingerprint", "xyz");
    assertEquals(2, r.exit());
    r = CliTestSupport.run("binlog", "dump", "--data-dir", dataDir.resolve("nowhere").toString());
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("no binlog at") && r.err().contains("--data-dir"), r.err());
  }
}
