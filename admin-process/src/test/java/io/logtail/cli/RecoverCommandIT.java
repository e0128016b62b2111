package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logtail.admin.AdminTestSupport;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code logtail recover} after a database restore, end to end through the command line: the database
 * is restored to an older copy while the log was rotated since; recover, told only about the live
 * file, finds the rotated one through the binlog, replays what the database lacks and exits 0; when
 * the rotated file has been moved away it exits 1.
 */
class RecoverCommandIT {
  @TempDir Path dir;

  @Test
  void recoverReplaysWhatARestoredDatabaseLacks() throws Exception {
    String url = TestDatabase.createDatabase("recover_cli");
    String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    EmbeddedPostgres pg = TestDatabase.server();
    LogGenerator gen = new LogGenerator(3, new LogGenerator.Mix());
    Path log = dir.resolve("access.log");
    String data = dir.resolve("data").toString();

    AdminTestSupport.appendLines(log, gen, 30_000);
    assertEquals(0, recover(url, dir.resolve("access.log*").toString(), data), "first ingest");
    assertEquals(Files.size(log), committed(url));

    exec(pg, "DROP DATABASE IF EXISTS " + name + "_bak WITH (FORCE)");   // left by an earlier run on the shared test server
    exec(pg, "CREATE DATABASE " + name + "_bak TEMPLATE " + name);
    AdminTestSupport.appendLines(log, gen, 20_000);
    Path rotated = dir.resolve("access.log.1");
    Files.move(log, rotated, StandardCopyOption.ATOMIC_MOVE);
    AdminTestSupport.appendLines(log, gen, 5_000);
    assertEquals(0, recover(url, dir.resolve("access.log*").toString(), data), "ingest after rotation");
    long total = Files.size(rotated) + Files.size(log);
    assertEquals(total, committed(url));
    long votes = AdminTestSupport.queryLong(url, "SELECT count(*) FROM votes");
    assertEquals(gen.expected().votes, votes);

    restore(pg, name);
    assertEquals(0, recover(url, log.toString(), data), "recover finds access.log.1 through the binlog");
    assertEquals(total, committed(url));
    assertEquals(gen.expected().votes, AdminTestSupport.queryLong(url, "SELECT count(*) FROM votes"));
    assertEquals(gen.expected().canvass, AdminTestSupport.queryLong(url, "SELECT count(*) FROM canvass_records"));
    assertEquals(gen.expected().rejected(), AdminTestSupport.queryLong(url, "SELECT count(*) FROM rejects"));

    restore(pg, name);
    Path away = Files.createDirectories(dir.resolve("elsewhere")).resolve("old.log");
    Files.move(rotated, away, StandardCopyOption.ATOMIC_MOVE);
    assertEquals(1, recover(url, log.toString(), data), "a stream whose file is gone is reported");
  }

  private static int recover(String url, String glob, String data) {
    return CliTestSupport.run("recover", "--log", glob, "--db-url", url, "--data-dir", data,
        "--node-id", "recover-it", "--timeout", "3m").exit();
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

  private static long committed(String url) throws Exception {
    return AdminTestSupport.queryLong(url, "SELECT coalesce(sum(committed_offset), 0) FROM sources");
  }
}
