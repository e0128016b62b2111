package io.logtail.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL for integration tests: one embedded server per test JVM, started on first use under
 * {@code target/test-pg/} (override with {@code -Dlogtail.test.pg.dir=...}) on a free port, and stopped
 * when the JVM exits if this JVM started it. Each test takes an empty database of its own:
 *
 * <pre>{@code
 * try (Database db = TestDatabase.fresh("flusher_commits_batches")) {   // schema from classpath:db/migration
 *   ...
 * }
 * }</pre>
 *
 * <p>Usable from any {@code *IT} in logtail-core, and from other modules through logtail-core's test-jar.
 */
public final class TestDatabase {
  private static final Logger log = LoggerFactory.getLogger(TestDatabase.class);
  private static final Set<String> handedOut = new HashSet<>();
  private static EmbeddedPostgres server;

  private TestDatabase() {}

  /** The JVM's server, started (or reused) on first call. */
  public static synchronized EmbeddedPostgres server() {
    if (server == null) {
      Path dir = Path.of(System.getProperty("logtail.test.pg.dir", "target/test-pg")).toAbsolutePath();
      EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDir(dir).port(freePort()).maxConnections(200).start();
      if (!pg.reused()) {
        Runtime.getRuntime().addShutdownHook(new Thread(pg::stop, "test-pg-stop"));
      }
      server = pg;
    }
    return server;
  }

  /** Where tests share the unpacked binaries, so that a test with a data directory of its own need not unpack them. */
  public static Path binariesCacheDir() {
    return server().config().binariesCacheDir();
  }

  /**
   * Creates an empty database named after {@code name} (dropped first if a former run left it) and
   * returns its JDBC URL, without migrations.
   */
  public static String createDatabase(String name) {
    String db = uniqueName(name);
    EmbeddedPostgres pg = server();
    try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + db);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create test database " + db + ": " + e.getMessage(), e);
    }
    log.info("Test database {} at {}", db, pg.jdbcUrl(db));
    return pg.jdbcUrl(db);
  }

  /** A fresh database with the real schema ({@value Database#DEFAULT_MIGRATIONS}) applied. */
  public static Database fresh(String name) {
    return fresh(name, Database.DEFAULT_MIGRATIONS);
  }

  /** A fresh database with the migrations at {@code migrationLocations} applied. */
  public static Database fresh(String name, String... migrationLocations) {
    Database db = Database.builder(createDatabase(name)).poolName("test-" + name)
        .migrationLocations(migrationLocations).build();
    try {
      db.migrate();
      return db;
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  private static synchronized String uniqueName(String name) {
    String base = "t_" + name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (base.length() > 55) {
      base = base.substring(0, 55);
    }
    String n = base;
    for (int i = 2; !handedOut.add(n); i++) {
      n = base + "_" + i;
    }
    return n;
  }

  /** A port that was free on 127.0.0.1 a moment ago. */
  public static int freePort() {
    try (ServerSocket ss = new ServerSocket()) {
      ss.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      return ss.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
