package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.event.HostileCatalogue;
import io.logtail.event.HostileCatalogue.Case;
import io.logtail.tail.TailerConfig;
import io.logtail.util.Ticker;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile input catalogue, written as one access log with a 10 MB line in the middle, ingested by a
 * real worker into a real PostgreSQL. Per case, found by its line offset: the rejects row's reason and
 * raw bytes (first 2 KiB), or the stored row's values byte for byte; skipped lines leave no row. Every
 * line is exactly one of event, counted reject or skip; the schema is intact (no payload was executed);
 * and the 10 MB line is rejected without the tailer thread ever allocating anything near its size.
 */
class HostileInputIT {
  @TempDir Path dir;

  record Placed(Case c, long offset) {}

  @Test
  void catalogueEndToEnd() throws Exception {
    Path pwned = Path.of(HostileCatalogue.PWNED);
    Files.deleteIfExists(pwned);
    List<Case> cases = HostileCatalogue.cases();
    byte[] huge = HostileCatalogue.hugeLine(10 * 1024 * 1024);
    Path log = dir.resolve("access.log");
    List<Placed> placed = new ArrayList<>();
    long hugeOffset = -1;
    long total = 0;
    try (OutputStream o = Files.newOutputStream(log)) {
      for (int i = 0; i < cases.size(); i++) {
        if (i == cases.size() / 2) {
          hugeOffset = total;
          o.write(huge);
          o.write('\n');
          total += huge.length + 1;
        }
        placed.add(new Placed(cases.get(i), total));
        o.write(cases.get(i).line());
        o.write('\n');
        total += cases.get(i).line().length + 1;
      }
    }
    long lines = cases.size() + 1;
    long expVotes = cases.stream().filter(c -> c.expect().equals("vote")).count();
    long expCanvass = cases.stream().filter(c -> c.expect().equals("canvass")).count();
    long expSkipped = cases.stream().filter(c -> c.expect().equals("skipped")).count();
    long expRejects = lines - expVotes - expCanvass - expSkipped; // includes the 10 MB line

    try (Database db = TestDatabase.fresh("hostile")) {
      List<String> tablesBefore = strings(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
      assertTrue(tablesBefore.containsAll(List.of("votes", "canvass_records", "rejects", "sources", "batches")), tablesBefore.toString());
      String dbName = strings(db, "SELECT current_database()").get(0);

      // default --max-line-bytes (65536)
      WorkerConfig cfg = new WorkerConfig().node("hostile-1").addLog(dir.resolve("access.log*").toString())
          .binlogDir(dir.resolve("binlog")).flushInterval(Duration.ofMillis(50));
      assertEquals(65536, cfg.maxLineBytes());
      var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      w.start();
      long tailerAllocated;
      try {
        long tid = tailerThreadId();
        long end = total;
        DbAssert.await(Duration.ofSeconds(60), "all lines committed",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == end);
        tailerAllocated = mx.getThreadAllocatedBytes(tid);
        assertNull(w.failure());
      } finally {
        w.close();
      }
      System.out.println("hostile: tailer thread allocated " + tailerAllocated + " bytes");
      // the tailer thread read all of the log (10.1 MB) and never held the 10 MB line: what it allocated
      // in its whole life (read buffer, events, batches' text) stays far below the line's size
      assertTrue(tailerAllocated > 0 && tailerAllocated < 6_000_000,
          "tailer thread allocated " + tailerAllocated + " bytes for a log with a 10 MB line");

      try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
        // every line is exactly one of: event, counted reject, skipped
        try (ResultSet rs = st.executeQuery("SELECT sum(lines), sum(votes), sum(duplicates), sum(retransmits),"
            + " sum(canvass), sum(resends), sum(rejects), sum(skipped) FROM batches")) {
          rs.next();
          assertEquals(lines, rs.getLong(1), "lines");
          assertEquals(expVotes, rs.getLong(2), "votes");
          assertEquals(0, rs.getLong(3), "duplicates");
          assertEquals(0, rs.getLong(4), "retransmits");
          assertEquals(expCanvass, rs.getLong(5), "canvass");
          assertEquals(0, rs.getLong(6), "resends");
          assertEquals(expRejects, rs.getLong(7), "rejects");
          assertEquals(expSkipped, rs.getLong(8), "skipped");
          assertEquals(rs.getLong(1), rs.getLong(2) + rs.getLong(3) + rs.getLong(4) + rs.getLong(5) + rs.getLong(6)
              + rs.getLong(7) + rs.getLong(8), "lines == events + rejects + skipped");
        }

        Map<Long, Object[]> rejects = rows(st, "SELECT line_offset, reason, raw FROM rejects");
        Map<Long, Object[]> votes = rows(st, "SELECT v.line_offset, convert_to(k.ballot, 'UTF8'),"
            + " convert_to(v.choice, 'UTF8'), convert_to(v.eid, 'UTF8'), v.voter FROM votes v JOIN ballot_keys k USING (ballot_id)");
        Map<Long, Object[]> canvass = rows(st, "SELECT line_offset, convert_to(kind, 'UTF8'), convert_to(dwelling, 'UTF8'),"
            + " convert_to(canvasser, 'UTF8'), convert_to(eid, 'UTF8'), convert_to(issue, 'UTF8'), convert_to(stance, 'UTF8'),"
            + " convert_to(request, 'UTF8'), lat_e7, lon_e7, cell_lat, cell_lon FROM canvass_records");
        assertEquals(expRejects, rejects.size(), "rejects rows");
        assertEquals(expVotes, votes.size(), "votes rows");
        assertEquals(expCanvass, canvass.size(), "canvass rows");

        Object[] h = rejects.get(hugeOffset);
        assertNotNull(h, "the 10 MB line's reject");
        assertEquals("line_too_long", h[0]);
        assertArrayEquals(Arrays.copyOf(huge, TailerConfig.OVERSIZED_HEAD_BYTES), (byte[]) h[1], "its first 2 KiB");

        List<String> wrong = new ArrayList<>();
        for (Placed p : placed) {
          Case k = p.c();
          Object[] rj = rejects.get(p.offset());
          Object[] vo = votes.get(p.offset());
          Object[] cv = canvass.get(p.offset());
          int found = (rj == null ? 0 : 1) + (vo == null ? 0 : 1) + (cv == null ? 0 : 1);
          switch (k.expect()) {
            case "skipped" -> {
              if (found != 0) wrong.add(k.name() + ": skipped line has a row");
            }
            case "vote" -> {
              if (vo == null || found != 1) {
                wrong.add(k.name() + ": no vote row (reject " + (rj == null ? null : rj[0]) + ")");
                continue;
              }
              compare(wrong, k, "ballot", (byte[]) vo[0]);
              compare(wrong, k, "choice", (byte[]) vo[1]);
              compare(wrong, k, "eid", (byte[]) vo[2]);
              if (k.line().length > 0 && new String(k.line(), StandardCharsets.ISO_8859_1).contains(HostileCatalogue.voterHex(k.ordinal()))
                  && !HexFormat.of().formatHex((byte[]) vo[3]).equals(HostileCatalogue.voterHex(k.ordinal()))) {
                wrong.add(k.name() + ": voter " + HexFormat.of().formatHex((byte[]) vo[3]));
              }
            }
            case "canvass" -> {
              if (cv == null || found != 1) {
                wrong.add(k.name() + ": no canvass row (reject " + (rj == null ? null : rj[0]) + ")");
                continue;
              }
              String[] names = {"kind", "dwelling", "canvasser", "eid", "issue", "stance", "request"};
              for (int i = 0; i < names.length; i++) {
                compare(wrong, k, names[i], (byte[]) cv[i]);
              }
              String[] nums = {"lat_e7", "lon_e7", "cell_lat", "cell_lon"};
              for (int i = 0; i < nums.length; i++) {
                if (k.stored().containsKey(nums[i]) && !k.stored().get(nums[i]).equals(String.valueOf(cv[7 + i]))) {
                  wrong.add(k.name() + ": " + nums[i] + " " + cv[7 + i]);
                }
              }
            }
            default -> {
              if (rj == null || found != 1) {
                wrong.add(k.name() + ": no reject row");
                continue;
              }
              if (!k.expect().equals(rj[0])) wrong.add(k.name() + ": reason " + rj[0] + ", expected " + k.expect());
              byte[] head = Arrays.copyOf(k.line(), Math.min(k.line().length, 2048));
              if (!Arrays.equals(head, (byte[]) rj[1])) wrong.add(k.name() + ": raw bytes differ");
            }
          }
        }
        assertEquals(List.of(), wrong, "cases that did not end as catalogued");

        // nothing was executed: same tables, the database, the tallies agree with the rows, no shell ran
        assertEquals(tablesBefore, strings(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"));
        assertEquals(List.of(dbName), strings(db, "SELECT datname FROM pg_database WHERE datname = '" + dbName + "'"));
        assertEquals(expVotes, DbAssert.one(st, "SELECT coalesce(sum(votes), 0) FROM vote_tallies"));
        assertEquals(expVotes, DbAssert.one(st, "SELECT count(*) FROM votes"));
        assertEquals(expCanvass, DbAssert.one(st, "SELECT count(*) FROM canvass_records"));
        assertEquals(expCanvass, DbAssert.one(st, "SELECT coalesce(sum(records), 0) FROM canvass_localities"));
        assertFalse(Files.exists(pwned), "a shell payload ran: " + pwned + " exists");
      }
    }
  }

  /** The worker's tailer thread (the only live one named logtail-tailer). */
  static long tailerThreadId() {
    List<Thread> t = Thread.getAllStackTraces().keySet().stream()
        .filter(x -> x.getName().equals("logtail-tailer") && x.isAlive()).toList();
    assertEquals(1, t.size(), "live tailer threads");
    return t.get(0).getId();
  }

  /** Compares a stored text column (as UTF-8 bytes, null for NULL) with the catalogue's value, when it names one. */
  static void compare(List<String> wrong, Case k, String field, byte[] actual) {
    if (!k.stored().containsKey(field)) {
      return;
    }
    String exp = k.stored().get(field);
    byte[] e = exp == null ? null : exp.getBytes(StandardCharsets.UTF_8);
    if (!Arrays.equals(e, actual)) {
      wrong.add(k.name() + ": " + field + " stored as "
          + (actual == null ? "NULL" : HexFormat.of().formatHex(actual)) + ", expected " + (e == null ? "NULL" : HexFormat.of().formatHex(e)));
    }
  }

  static Map<Long, Object[]> rows(Statement st, String sql) throws Exception {
    Map<Long, Object[]> out = new HashMap<>();
    try (ResultSet rs = st.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        Object[] r = new Object[n - 1];
        for (int i = 2; i <= n; i++) {
          r[i - 2] = rs.getObject(i);
        }
        assertNull(out.put(rs.getLong(1), r), "two rows at offset " + rs.getLong(1));
      }
    }
    return out;
  }

  static List<String> strings(Database db, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
