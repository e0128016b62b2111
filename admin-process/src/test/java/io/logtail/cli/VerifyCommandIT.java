package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.admin.AdminTestSupport;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code logtail verify} against a database a real worker filled ({@code logtail recover}, which runs
 * the worker until caught up) from a log that was rotated twice (one rotated file gzipped): it agrees;
 * then, after each way of tampering with the database (a vote row lost, a reject row doubled, a tally
 * part off by one, a committed offset moved back), it exits 1 and names the difference, with the byte
 * range of the line for the per-line cases. Lines not committed yet are lag: a difference, unless
 * {@code --allow-lag}.
 */
class VerifyCommandIT {
  private static final String NODE = "verify-it";

  @TempDir Path dir;

  @Test
  void agreesAfterIngestAndNamesEveryTampering() throws Exception {
    String url = TestDatabase.createDatabase("verify_cli");
    String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    EmbeddedPostgres pg = TestDatabase.server();
    LogGenerator gen = new LogGenerator(8, new LogGenerator.Mix());
    Path log = dir.resolve("access.log");
    String glob = dir.resolve("access.log*").toString();
    String data = dir.resolve("data").toString();

    AdminTestSupport.appendLines(log, gen, 15_000);
    Files.move(log, dir.resolve("access.log.1"), StandardCopyOption.ATOMIC_MOVE);
    AdminTestSupport.appendLines(log, gen, 15_000);
    assertEquals(0, recover(url, glob, data), "ingest before the second rotation");
    // logrotate with delaycompress: .1 -> .2.gz (mtime kept), live -> .1, a new live file
    gzip(dir.resolve("access.log.1"), dir.resolve("access.log.2.gz"));
    Files.delete(dir.resolve("access.log.1"));
    Files.move(log, dir.resolve("access.log.1"), StandardCopyOption.ATOMIC_MOVE);
    AdminTestSupport.appendLines(log, gen, 10_000);
    assertEquals(0, recover(url, glob, data), "ingest after the second rotation");
    try (Connection c = DriverManager.getConnection(url)) {
      assertEquals(List.of(), ExpectedCheck.differences(c, gen.expected()), "the worker ingested exactly the generator's expectation");
    }

    CliTestSupport.Run ok = verify(url, glob);
    assertEquals(0, ok.exit(), ok.out() + ok.err());
    assertTrue(ok.out().contains("AGREE"), ok.out());
    assertTrue(ok.out().contains("access.log.2.gz"), "the gzipped file is read: " + ok.out());
    assertTrue(ok.out().contains("3 stream(s)"), ok.out());
    exec(pg, "DROP DATABASE IF EXISTS " + name + "_bak WITH (FORCE)");
    exec(pg, "CREATE DATABASE " + name + "_bak TEMPLATE " + name);

    // 1. one counted vote lost, from the gzipped stream: the line's byte range is named
    int gzSource = (int) AdminTestSupport.queryLong(url, "SELECT min(source_id) FROM sources"); // the oldest stream, now access.log.2.gz
    long off = AdminTestSupport.queryLong(url, "WITH d AS (DELETE FROM votes WHERE ctid = (SELECT ctid FROM votes WHERE source_id = " + gzSource
        + " ORDER BY line_offset OFFSET 100 LIMIT 1) RETURNING line_offset) SELECT line_offset FROM d");
    String range = "[" + off + ", " + lineEnd(dir.resolve("access.log.2.gz"), off) + ")";
    CliTestSupport.Run lost = verify(url, glob);
    assertEquals(1, lost.exit(), lost.out());
    assertTrue(lost.out().contains("access.log.2.gz (source " + gzSource + "): votes row missing (the line is a counted vote): "
        + "1 line(s)/row(s) in 1 byte range(s): " + range), lost.out());
    assertEquals(1, lost.out().split("\n  /").length - 1, "only that difference (tallies are kept apart from the rows): "
        + lost.out());
    restore(pg, name);

    // 2. one reject row doubled, in the live file
    int live = (int) AdminTestSupport.queryLong(url, "SELECT source_id FROM sources ORDER BY source_id DESC LIMIT 1");
    off = AdminTestSupport.queryLong(url, "WITH d AS (INSERT INTO rejects SELECT * FROM rejects WHERE ctid = (SELECT ctid FROM rejects WHERE "
        + "source_id = " + live + " ORDER BY line_offset LIMIT 1) RETURNING line_offset) SELECT line_offset FROM d");
    CliTestSupport.Run doubled = verify(url, glob);
    assertEquals(1, doubled.exit(), doubled.out());
    assertTrue(doubled.out().contains("rejects row doubled: 1 line(s)/row(s) in 1 byte range(s): [" + off + ", "
        + lineEnd(log, off) + ")"), doubled.out());
    restore(pg, name);

    // 3. a tally part off by one
    String ballot = AdminTestSupport.queryText(url, "WITH u AS (UPDATE vote_tally_parts SET votes = votes + 1 WHERE ctid = (SELECT ctid FROM "
        + "vote_tally_parts ORDER BY ballot_id, choice LIMIT 1) RETURNING ballot_id, choice) "
        + "SELECT k.ballot || ' / ' || u.choice FROM u JOIN ballot_keys k USING (ballot_id)");
    CliTestSupport.Run tally = verify(url, glob);
    assertEquals(1, tally.exit(), tally.out());
    assertTrue(tally.out().contains("tally " + ballot + ": database"), tally.out());
    assertTrue(tally.out().contains("(+1)"), tally.out());
    restore(pg, name);

    // 4. the live file's committed offset moved back by its last line: the rows of that line are now
    // beyond the offset, and the line is lag
    long size = Files.size(log);
    long lastStart = lastLineStart(log);
    exec(url, "UPDATE sources SET committed_offset = " + lastStart + " WHERE source_id = " + live);
    CliTestSupport.Run back = verify(url, glob);
    assertEquals(1, back.exit(), back.out());
    assertTrue(back.out().contains("committed offset " + lastStart + " of " + size + ": 1 lines, bytes [" + lastStart
        + ", " + size + ") not committed yet"), back.out());
    assertTrue(back.out().contains("batches.lines summed over this node's batches: database 40000, log 39999 (+1)"),
        back.out());
    restore(pg, name);

    // 5. lag alone: lines appended and not ingested yet
    AdminTestSupport.appendLines(log, gen, 50);
    CliTestSupport.Run lag = verify(url, glob);
    assertEquals(1, lag.exit(), lag.out());
    assertTrue(lag.out().contains("LAG: "), lag.out());
    assertEquals(0, verify(url, glob, "--allow-lag").exit(), "--allow-lag");
    assertEquals(0, recover(url, glob, data), "catch up");
    assertEquals(0, verify(url, glob).exit(), "agrees again once caught up");

    // bad options and an unreachable database
    assertEquals(2, CliTestSupport.run("verify", "--db-url", url).exit(), "--log is required");
    assertEquals(3, CliTestSupport.run("verify", "--log", glob, "--node-id", NODE, "--no-progress", "--db-url",
        "jdbc:postgresql://127.0.0.1:1/nothing?user=logtail&connectTimeout=2").exit(), "no database");
  }

  @Test
  void appliesTheVoterRollAndIgnoresAnUnfinishedLine() throws Exception {
    String url = TestDatabase.createDatabase("verify_roll");
    LogGenerator.Mix mix = new LogGenerator.Mix();
    mix.roll = true;
    mix.offRollShare = 0.05;
    mix.voters = 5_000;
    LogGenerator gen = new LogGenerator(9, mix);
    Path roll = dir.resolve("roll.txt");
    try (OutputStream o = Files.newOutputStream(roll)) {
      gen.writeRoll(o);
    }
    assertEquals(0, CliTestSupport.run("roll", "load", roll.toString(), "--db-url", url).exit(), "roll load");
    Path log = dir.resolve("beacons.log");
    AdminTestSupport.appendLines(log, gen, 12_000);
    String glob = dir.resolve("beacons.log*").toString();
    assertEquals(0, recover(url, glob, dir.resolve("data").toString()), "ingest");
    try (Connection c = DriverManager.getConnection(url)) {
      assertEquals(List.of(), ExpectedCheck.differences(c, gen.expected()));
    }
    assertTrue(gen.expected().rejects.getOrDefault("unknown_voter", 0L) > 0, "the mix has voters off the roll");
    // nginx is in the middle of writing a line: not a line yet, for the worker as for verify
    Files.writeString(log, "127.0.0.1 - - [23/Nov/2026:09:00:29 +0000] \"GET /b/vote.g", StandardOpenOption.APPEND);
    // and a .gz copy of the same stream is lying next to it: one stream, read once
    gzip(log, dir.resolve("beacons.log.1.gz"));
    CliTestSupport.Run ok = verify(url, glob);
    assertEquals(0, ok.exit(), ok.out());
    assertTrue(ok.out().contains("unknown_voter " + gen.expected().rejects.get("unknown_voter")), ok.out());
    assertTrue(ok.out().contains("bytes of an unfinished last line"), ok.out());
    assertTrue(ok.out().contains("1 stream(s)") && ok.out().contains("same stream also at"), ok.out());

    // one counted vote turned into a reject of another reason: both differences are named
    exec(url, "WITH v AS (DELETE FROM votes WHERE ctid = (SELECT ctid FROM votes ORDER BY line_offset LIMIT 1) "
        + "RETURNING node_id, source_id, line_offset) INSERT INTO rejects (node_id, source_id, line_offset, reason, raw) "
        + "SELECT node_id, source_id, line_offset, 'bad_voter', ''::bytea FROM v");
    CliTestSupport.Run bad = verify(url, glob);
    assertEquals(1, bad.exit(), bad.out());
    assertTrue(bad.out().contains("votes row missing"), bad.out());
    assertTrue(bad.out().contains("rejects row at a line that is a counted vote"), bad.out());
  }

  private static CliTestSupport.Run verify(String url, String glob, String... more) {
    String[] args = new String[8 + more.length];
    String[] base = {"verify", "--log", glob, "--db-url", url, "--node-id", NODE, "--no-progress"};
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return CliTestSupport.run(args);
  }

  private static int recover(String url, String glob, String data) {
    return CliTestSupport.run("recover", "--log", glob, "--db-url", url, "--data-dir", data,
        "--node-id", NODE, "--timeout", "3m").exit();
  }

  private static byte[] content(Path p) throws Exception {
    try (InputStream in = p.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(p)) : Files.newInputStream(p)) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      in.transferTo(b);
      return b.toByteArray();
    }
  }

  private static long lineEnd(Path p, long start) throws Exception {
    byte[] c = content(p);
    int i = (int) start;
    while (c[i] != '\n') i++;
    return i + 1;
  }

  private static long lastLineStart(Path p) throws Exception {
    byte[] c = content(p);
    int i = c.length - 2;
    while (i >= 0 && c[i] != '\n') i--;
    return i + 1;
  }

  private static void gzip(Path from, Path to) throws Exception {
    try (InputStream in = Files.newInputStream(from); OutputStream out = new GZIPOutputStream(Files.newOutputStream(to))) {
      in.transferTo(out);
    }
    Files.setLastModifiedTime(to, Files.getLastModifiedTime(from));
  }

  private static void restore(EmbeddedPostgres pg, String name) throws Exception {
    exec(pg, "DROP DATABASE " + name + " WITH (FORCE)");
    exec(pg, "CREATE DATABASE " + name + " TEMPLATE " + name + "_bak");
  }

  private static void exec(EmbeddedPostgres pg, String sql) throws Exception {
    try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static void exec(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
