package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.BalancerSplit;
import io.logtail.gen.ExpectedCheck;
import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The N-databases layout: one generated log split as the shipped balancer splits it (votes by voter,
 * the rest by eid) into three logs; three nodes, each writing into a PostgreSQL cluster of its own
 * (three embedded servers, distinct data directories and ports); and a read database built by the
 * shipped {@code read-db/read-db.sql} over {@code postgres_fdw} (foreign tables per shard, union
 * views). The read database must equal the generator's expectation of the whole log, through the
 * same {@link ExpectedCheck} that checks a single database (tallies, votes, duplicate attempts,
 * canvass records, rejects by reason, localities, the batches' counters), while no shard alone does.
 */
class ShardedReadDbIT {
  static final int LINES = 120_000;
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  @Test
  void threeShardsAndAReadDatabaseOverPostgresFdwEqualTheWholeLog() throws Exception {
    List<String> shards = List.of("a", "b", "c");
    LogGenerator gen = new LogGenerator(2026, new LogGenerator.Mix());
    List<StringBuilder> parts = new ArrayList<>();
    for (int i = 0; i < shards.size(); i++) parts.add(new StringBuilder());
    for (int i = 0; i < LINES; i++) {
      String line = gen.nextLine();
      parts.get(BalancerSplit.nodeOf(line, shards.size())).append(line);
    }
    List<EmbeddedPostgres> servers = new ArrayList<>();
    try {
      for (int i = 0; i < shards.size(); i++) {
        String s = shards.get(i);
        Path log = dir.resolve(s).resolve("access.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, parts.get(i), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
        EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDir(dir.resolve("pg-" + s)).port(TestDatabase.freePort())
            .binariesCacheDir(TestDatabase.binariesCacheDir()).maxConnections(40).start();
        servers.add(pg);
        ingest(pg.jdbcUrl(), "node-" + s, log, dir.resolve(s).resolve("binlog"));
      }

      String readUrl = TestDatabase.createDatabase("read_db");
      try (Connection c = DriverManager.getConnection(readUrl); Statement st = c.createStatement()) {
        st.execute(readDbSql());
        for (int i = 0; i < shards.size(); i++) {
          try (PreparedStatement ps = c.prepareStatement("SELECT logtail_add_shard(?, '127.0.0.1', ?, 'logtail', 'logtail')")) {
            ps.setString(1, shards.get(i));
            ps.setInt(2, servers.get(i).port());
            ps.execute();
          }
        }
        assertEquals(3, DbAssert.one(st, "SELECT logtail_refresh_read_views()"));
        assertEquals(List.of(), ExpectedCheck.differences(c, gen.expected()),
            "the read database over postgres_fdw vs the whole log");
        assertEquals(3, DbAssert.one(st, "SELECT count(*) FROM cluster_status"), "one node per shard");
        assertEquals(LINES, DbAssert.one(st, "SELECT sum(lines) FROM cluster_status"));
        // the sums are over real shards: each holds a part, and a voter is on one shard only
        try (ResultSet rs = st.executeQuery("SELECT shard, count(*) FROM votes GROUP BY shard ORDER BY shard")) {
          int n = 0;
          while (rs.next()) {
            n++;
            assertTrue(rs.getLong(2) > 0 && rs.getLong(2) < gen.expected().votes, rs.getString(1) + ": " + rs.getLong(2));
          }
          assertEquals(3, n);
        }
        assertEquals(0, DbAssert.one(st, "SELECT count(*) FROM (SELECT ballot, voter FROM votes GROUP BY ballot, voter"
            + " HAVING count(DISTINCT shard) > 1) x"), "a voter's votes are on one shard");
      }
      for (EmbeddedPostgres pg : servers) {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl())) {
          assertTrue(!ExpectedCheck.differences(c, gen.expected()).isEmpty(), "a shard alone is not the whole log");
        }
      }
    } finally {
      for (EmbeddedPostgres pg : servers) pg.stop();
    }
  }

  /** One node into one shard: an in-process worker until its whole log is committed. */
  private static void ingest(String url, String node, Path log, Path binlog) throws Exception {
    try (Database db = Database.builder(url).poolName("shard-" + node).build()) {
      db.migrate();
      WorkerConfig cfg = new WorkerConfig().node(node).addLog(log.toString()).binlogDir(binlog)
          .flushInterval(Duration.ofMillis(50)).batchMaxLines(20_000);
      Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
      w.start();
      try {
        long size = Files.size(log);
        DbAssert.await(Duration.ofSeconds(90), node + " to commit " + size + " bytes",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset), 0) FROM sources") == size
                || w.failure() != null);
        assertEquals(null, w.failure());
      } finally {
        w.close();
      }
    }
  }

  private static String readDbSql() throws Exception {
    try (InputStream in = ShardedReadDbIT.class.getResourceAsStream("/read-db/read-db.sql")) {
      assertTrue(in != null, "read-db/read-db.sql is not on the classpath (sql module)");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
