package io.logtail.worker;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the database a command works on: the server of {@code --db-url}, or, without one, the embedded
 * PostgreSQL under {@code <data-dir>/pg} (started if it is not running, reused if it is: it outlives
 * worker restarts). Migrations are applied before anything else touches the schema.
 */
public final class DatabaseSetup {
  private static final Logger log = LoggerFactory.getLogger(DatabaseSetup.class);

  private DatabaseSetup() {}

  public static Database open(WorkerOptions o) {
    return open(o.dbUrl, o.dbUser, o.dbPassword, o.dataDir, o.dbPort, true);
  }

  public static Database open(String url, String user, String password, Path dataDir, int port,
      boolean migrate) {
    String jdbc = url;
    if (jdbc == null || jdbc.isBlank()) {
      EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDir(dataDir.resolve("pg")).port(port).start();
      jdbc = pg.jdbcUrl();
      log.info("using the embedded PostgreSQL at {} (psql -h 127.0.0.1 -p {} -U logtail logtail)",
          pg.pgData(), pg.port());
    }
    Database db = Database.builder(jdbc).user(blankToNull(user)).password(blankToNull(password))
        .maxPoolSize(6).build();
    if (migrate) {
      db.migrate();
    }
    return db;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
