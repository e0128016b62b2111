package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.util.Ticker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database is copied mid-run (a snapshot, as a backup would be), the run finishes while logrotate
 * renames and gzips the log, then the database is restored from the snapshot. Recovery finds the
 * binlog ahead of the database, finds the rotated, gzipped file through the binlog's path (the worker
 * is only told about the live access.log), re-reads what the database lacks, and the database matches
 * the log again.
 */
class DatabaseRestoreIT {
  @TempDir Path dir;

  @Test
  void restoreFromOlderBackupThenRecover() throws Exception {
    String url = TestDatabase.createDatabase("restore");
    String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    EmbeddedPostgres pg = TestDatabase.server();
    LogGenerator gen = new LogGenerator(5, new LogGenerator.Mix());
    Path log = dir.resolve("access.log");
    try (FakeNginx nginx = new FakeNginx(log)) {
      nginx.write(gen, 80_000);
      run(url, dir.resolve("access.log*").toString(), nginx.written());

      // the backup: a copy of the database as it is now
      try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + name + "_backup");
        st.execute("CREATE DATABASE " + name + "_backup TEMPLATE " + name);
      }

      nginx.write(gen, 40_000);
      nginx.rotateRename();            // access.log -> access.log.1
      nginx.write(gen, 40_000);
      run(url, dir.resolve("access.log*").toString(), nginx.written());
      nginx.rotateRename();            // .1 -> .2 -> .2.gz (delaycompress), access.log -> .1
      nginx.write(gen, 10_000);

      // restore the older backup over the live database
      try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE " + name + " WITH (FORCE)");
        st.execute("CREATE DATABASE " + name + " TEMPLATE " + name + "_backup");
      }
      assertTrue(Files.exists(dir.resolve("access.log.2.gz")));

      // recover, following only the live file: the first stream is found via the binlog, gzipped
      try (Database db = Database.builder(url).build()) {
        db.migrate();
        WorkerConfig cfg = config(log.toString());
        Worker w = new Worker(cfg, db.dataSource(), Ticker.system());
        w.start();
        try {
          Recovery.Report r = w.recovery();
          assertTrue(r.rewound(), "binlog ahead of the restored database: " + r.summary());
          assertFalse(r.missing().isEmpty(), "ranges the database lacks are listed");
          long total = nginx.written();
          DbAssert.await(Duration.ofSeconds(120), "the restored database catches up with the log",
              () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
          assertNull(w.failure());
        } finally {
          w.close();
        }
        DbAssert.assertMatches(db.dataSource(), gen.expected());
        assertEquals(3, DbAssert.query(db.dataSource(), "SELECT count(*) FROM sources"), "three streams");
      }
    }
  }

  private WorkerConfig config(String glob) {
    return new WorkerConfig().node("restore").addLog(glob).binlogDir(dir.resolve("binlog"))
        .flushInterval(Duration.ofMillis(50)).batchMaxLines(5_000);
  }

  private void run(String url, String glob, long total) throws Exception {
    try (Database db = Database.builder(url).build()) {
      db.migrate();
      Worker w = new Worker(config(glob), db.dataSource(), Ticker.system());
      w.start();
      try {
        DbAssert.await(Duration.ofSeconds(120), "caught up",
            () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
        assertNull(w.failure());
      } finally {
        w.close();
      }
    }
  }
}
