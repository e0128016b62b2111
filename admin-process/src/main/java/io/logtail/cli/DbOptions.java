package io.logtail.cli;

import io.logtail.db.Database;
import io.logtail.worker.DatabaseSetup;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The database options of the commands that are not the worker (reference data loads): the same
 * names, environment variables and defaults as {@link io.logtail.worker.WorkerOptions}, so that an
 * operator's unit file or shell environment serves every command.
 */
public final class DbOptions {
  @Option(names = "--db-url", paramLabel = "JDBC_URL", defaultValue = "${env:LOGTAIL_DB_URL}",
      description = "PostgreSQL to write to, e.g. jdbc:postgresql://db:5432/logtail. Without it the embedded PostgreSQL under --data-dir is used (started if needed). Env: LOGTAIL_DB_URL.")
  public String dbUrl;

  @Option(names = "--db-user", defaultValue = "${env:LOGTAIL_DB_USER}", description = "Database user (or in the URL). Env: LOGTAIL_DB_USER.")
  public String dbUser;

  @Option(names = "--db-password", defaultValue = "${env:LOGTAIL_DB_PASSWORD}", description = "Database password; prefer the environment. Env: LOGTAIL_DB_PASSWORD.")
  public String dbPassword;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:LOGTAIL_DATA_DIR:-logtail-data}",
      description = "Where the embedded PostgreSQL lives, when no --db-url. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_DATA_DIR.")
  public Path dataDir;

  @Option(names = "--db-port", defaultValue = "${env:LOGTAIL_DB_PORT:-54329}",
      description = "Port of the embedded PostgreSQL (loopback only). Default: ${DEFAULT-VALUE}. Env: LOGTAIL_DB_PORT.")
  public int dbPort;

  /** Opens the database (starting the embedded one if needed) and applies pending migrations. */
  public Database open() {
    return DatabaseSetup.open(dbUrl, dbUser, dbPassword, dataDir, dbPort, true);
  }

  /** Where the data goes, for messages: the URL without password, or the embedded server. */
  public String describe() {
    return dbUrl == null || dbUrl.isBlank()
        ? "the embedded PostgreSQL under " + dataDir.resolve("pg") + " (port " + dbPort + ")"
        : Database.redact(dbUrl);
  }
}
