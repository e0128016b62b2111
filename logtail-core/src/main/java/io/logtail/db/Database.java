package io.logtail.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL database logtail writes to: a small HikariCP pool and the Flyway migrations.
 *
 * <pre>{@code
 * try (Database db = Database.builder(url).build()) {
 *   db.migrate();
 *   DataSource ds = db.dataSource();
 * }
 * }</pre>
 *
 * <p>Connections come from the pool with HikariCP's defaults (auto-commit on); a caller that commits
 * batches itself turns auto-commit off on the connection it borrows. Batched inserts are rewritten into
 * multi-row inserts by the driver ({@code reWriteBatchedInserts=true}).
 *
 * <p>{@link #migrate()} is safe when several nodes start at once: Flyway serialises them with a
 * PostgreSQL advisory lock.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  /** Where the real schema lives: the {@code sql} module's {@code db/migration}. */
  public static final String DEFAULT_MIGRATIONS = "classpath:db/migration";

  /** Validated settings; build with {@link Database#builder(String)}. */
  public static final class Builder {
    private final String jdbcUrl;
    private String user;
    private String password;
    private String poolName = "logtail-db";
    private int maxPoolSize = 4;
    private Duration connectionTimeout = Duration.ofSeconds(10);
    private List<String> migrationLocations = List.of(DEFAULT_MIGRATIONS);

    private Builder(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
    }

    /** User, when not in the URL. */
    public Builder user(String user) { this.user = user; return this; }
    /** Password, when not in the URL; never logged. */
    public Builder password(String password) { this.password = password; return this; }
    /** HikariCP pool name (shows in its logs and thread names); default {@code logtail-db}. */
    public Builder poolName(String name) { this.poolName = name; return this; }
    /** At most this many connections; default 4. */
    public Builder maxPoolSize(int n) { this.maxPoolSize = n; return this; }
    /** How long borrowing a connection may wait; default 10 s. */
    public Builder connectionTimeout(Duration t) { this.connectionTimeout = t; return this; }
    /** Flyway locations; default {@value #DEFAULT_MIGRATIONS}. */
    public Builder migrationLocations(String... locations) { this.migrationLocations = List.of(locations); return this; }

    /**
     * Validates the settings and creates the pool. The pool opens connections lazily: an unreachable
     * database shows in {@link #reachable(Duration)} and in {@link #migrate()}, not here.
     */
    public Database build() {
      List<String> problems = new ArrayList<>();
      if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
        problems.add("the database URL must start with jdbc:postgresql: (e.g. jdbc:postgresql://host:5432/logtail),"
            + " was " + (jdbcUrl == null ? null : redact(jdbcUrl)));
      }
      if (poolName == null || poolName.isBlank()) {
        problems.add("poolName must not be blank");
      }
      if (maxPoolSize < 1 || maxPoolSize > 100) {
        problems.add("maxPoolSize must be 1..100, was " + maxPoolSize);
      }
      if (connectionTimeout == null || connectionTimeout.toMillis() < 250) {
        problems.add("connectionTimeout must be at least 250 ms, was " + connectionTimeout);
      }
      if (migrationLocations.isEmpty() || migrationLocations.stream().anyMatch(l -> l == null || l.isBlank())) {
        problems.add("migrationLocations must name at least one location, was " + migrationLocations);
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("Invalid database settings: " + String.join("; ", problems));
      }
      return new Database(this);
    }
  }

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final List<String> migrationLocations;
  private final HikariDataSource dataSource;

  private Database(Builder b) {
    this.jdbcUrl = b.jdbcUrl;
    this.user = b.user;
    this.password = b.password;
    this.migrationLocations = b.migrationLocations;
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(jdbcUrl);
    if (user != null) {
      hc.setUsername(user);
    }
    if (password != null) {
      hc.setPassword(password);
    }
    hc.setPoolName(b.poolName);
    hc.setMaximumPoolSize(b.maxPoolSize);
    hc.setMinimumIdle(Math.min(1, b.maxPoolSize));
    hc.setConnectionTimeout(b.connectionTimeout.toMillis());
    hc.setValidationTimeout(Math.min(5_000, Math.max(250, b.connectionTimeout.toMillis() / 2)));
    // do not fail here when the database is down: reachable() and migrate() report it
    hc.setInitializationFailTimeout(-1);
    hc.addDataSourceProperty("reWriteBatchedInserts", "true");
    hc.addDataSourceProperty("ApplicationName", "logtail");
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    hc.addDataSourceProperty("connectTimeout", Long.toString(Math.max(1, b.connectionTimeout.toSeconds())));
    this.dataSource = new HikariDataSource(hc);
    log.info("Database {} (pool {}, at most {} connections)", redactedUrl(), b.poolName, b.maxPoolSize);
  }

  /** A builder for the database at {@code jdbcUrl} ({@code jdbc:postgresql://...}). */
  public static Builder builder(String jdbcUrl) {
    return new Builder(jdbcUrl);
  }

  /** The pool for {@code jdbcUrl}, migrations from {@value #DEFAULT_MIGRATIONS}; user and password may be null. */
  public static Database open(String jdbcUrl, String user, String password) {
    return builder(jdbcUrl).user(user).password(password).build();
  }

  /** The pool. Closing this {@code Database} closes it. */
  public HikariDataSource dataSource() {
    return dataSource;
  }

  /** A connection from the pool; the caller closes it (returning it to the pool). */
  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /**
   * The version of the newest migration packaged with this build ({@code sql/.../V<n>__*.sql});
   * SchemaVersionTest keeps it equal to the files.
   */
  public static final String SCHEMA_VERSION = "3";

  /**
   * For a worker whose admin process has just migrated: one query checks that the newest successful
   * migration is {@link #SCHEMA_VERSION} and none failed, which saves Flyway's scan and validation
   * (0.5 to 3 s of a restart on a loaded 2-core machine). Anything else, or no history table, runs
   * the full {@link #migrate()}.
   *
   * @return whether the full migration ran
   */
  public boolean migrateUnlessCurrent() {
    long t0 = System.nanoTime();
    try (Connection c = connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT (SELECT version FROM flyway_schema_history WHERE success"
            + " ORDER BY installed_rank DESC LIMIT 1), EXISTS (SELECT 1 FROM flyway_schema_history WHERE NOT success)")) {
      if (rs.next() && SCHEMA_VERSION.equals(rs.getString(1)) && !rs.getBoolean(2)) {
        log.info("Schema of {} at version {} (checked in {} ms; the admin process ran the migrations)", redactedUrl(),
            SCHEMA_VERSION, (System.nanoTime() - t0) / 1_000_000);
        return false;
      }
    } catch (SQLException e) {
      log.debug("{}: no usable flyway_schema_history ({}); migrating", redactedUrl(), e.getMessage());
    }
    migrate();
    return true;
  }

  /**
   * Applies the pending migrations. Several nodes may call this at once: Flyway takes a PostgreSQL
   * advisory lock, so one applies them and the others find them applied.
   */
  public MigrateResult migrate() {
    long t0 = System.nanoTime();
    Flyway flyway = Flyway.configure()
        .dataSource(dataSource)
        .locations(migrationLocations.toArray(String[]::new))
        .failOnMissingLocations(false)
        .load();
    MigrateResult r = flyway.migrate();
    log.info("Schema of {} at version {} ({} migration(s) applied now, {} ms)", redactedUrl(),
        r.targetSchemaVersion != null ? r.targetSchemaVersion
            : (r.initialSchemaVersion != null ? r.initialSchemaVersion : "none (no migrations)"), r.migrationsExecuted,
        (System.nanoTime() - t0) / 1_000_000);
    return r;
  }

  /**
   * Whether a new connection can be made and answers within {@code timeout}. Uses a connection of its
   * own, outside the pool, so a busy pool does not make the database look down.
   */
  public boolean reachable(Duration timeout) {
    int secs = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("connectTimeout", Integer.toString(secs));
    p.setProperty("loginTimeout", Integer.toString(secs));
    p.setProperty("socketTimeout", Integer.toString(secs));
    p.setProperty("ApplicationName", "logtail-probe");
    try (Connection c = new org.postgresql.Driver().connect(jdbcUrl, p)) {
      return c != null && c.isValid(secs);
    } catch (SQLException e) {
      log.debug("Database {} not reachable: {}", redactedUrl(), e.getMessage());
      return false;
    }
  }

  /** The JDBC URL as given (may hold a password: never log it; see {@link #redactedUrl()}). */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** The URL without any password, for logs and status output. */
  public String redactedUrl() {
    return redact(jdbcUrl);
  }

  private static final Pattern SECRET_PARAM =
      Pattern.compile("(?i)([?&;])[^=&;?#]*(password|passwd|pwd)[^=&;?#]*=[^&;#]*");
  private static final Pattern USERINFO_PASSWORD = Pattern.compile("(//[^/@:?#]*):[^/@?#]*@");

  /**
   * {@code url} without passwords: drops every query parameter whose name contains
   * {@code password} (also {@code sslpassword}), and the password of a {@code //user:password@host} form.
   */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    String s = USERINFO_PASSWORD.matcher(url).replaceAll("$1@");
    s = SECRET_PARAM.matcher(s).replaceAll("$1");
    // tidy the separators a removed parameter leaves: "?&a" -> "?a", "a&&b" -> "a&b", trailing "?"/"&"
    s = s.replaceAll("\\?[&;]+", "?").replaceAll("([&;])[&;]+", "$1").replaceAll("[?&;]+(?=#|$)", "");
    return s;
  }

  @Override
  public void close() {
    dataSource.close();
  }

  @Override
  public String toString() {
    return "Database[" + redactedUrl() + "]";
  }
}
