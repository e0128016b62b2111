package io.logtail.worker;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The worker's command-line options, declared once: {@code logtail run} shows them, and the admin
 * process passes them on to the worker JVM it starts. Each has an environment variable where an
 * operator is likely to set it in a unit file.
 */
public final class WorkerOptions {
  @Option(names = "--log", paramLabel = "PATH", required = true,
      description = "Access log to tail: a path or a glob in the file name (e.g. '/var/log/nginx/access.log*'). Repeatable.")
  public List<String> logs = new ArrayList<>();

  @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "${env:LOGTAIL_LOG_FORMAT:-combined}",
      description = "The log_format text the logs were written with, as in nginx.conf (escape=json allowed), or 'combined'. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_LOG_FORMAT.")
  public String logFormat;

  @Option(names = "--node-id", paramLabel = "ID", defaultValue = "${env:LOGTAIL_NODE_ID}",
      description = "This node's name (one per nginx host). Default: the host name. Env: LOGTAIL_NODE_ID.")
  public String nodeId;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:LOGTAIL_DATA_DIR:-logtail-data}",
      description = "Where the binlog (and the embedded PostgreSQL, when no --db-url) live. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_DATA_DIR.")
  public Path dataDir;

  @Option(names = "--db-url", paramLabel = "JDBC_URL", defaultValue = "${env:LOGTAIL_DB_URL}",
      description = "PostgreSQL to write to, e.g. jdbc:postgresql://db:5432/logtail. Without it an embedded PostgreSQL runs under --data-dir. Env: LOGTAIL_DB_URL.")
  public String dbUrl;

  @Option(names = "--db-user", defaultValue = "${env:LOGTAIL_DB_USER}", description = "Database user (or in the URL). Env: LOGTAIL_DB_USER.")
  public String dbUser;

  @Option(names = "--db-password", defaultValue = "${env:LOGTAIL_DB_PASSWORD}", description = "Database password; prefer the environment. Env: LOGTAIL_DB_PASSWORD.")
  public String dbPassword;

  @Option(names = "--db-port", defaultValue = "${env:LOGTAIL_DB_PORT:-54329}",
      description = "Port of the embedded PostgreSQL (loopback only). Default: ${DEFAULT-VALUE}. Env: LOGTAIL_DB_PORT.")
  public int dbPort;

  @Option(names = "--flush-interval", defaultValue = "250ms", converter = DurationConverter.class,
      description = "Longest time a line waits in a batch before the batch is committed. Default: ${DEFAULT-VALUE}.")
  public Duration flushInterval;

  @Option(names = "--batch-linger", defaultValue = "50ms", converter = DurationConverter.class,
      description = "A batch is committed once its first line is this old if the flusher is idle (group commit);"
          + " otherwise at --flush-interval. Equal to --flush-interval: no early commit. Default: ${DEFAULT-VALUE}.")
  public Duration batchLinger;

  @Option(names = "--batch-lines", defaultValue = "50000", description = "Most lines in one batch. Default: ${DEFAULT-VALUE}.")
  public int batchLines;

  @Option(names = "--batch-bytes", defaultValue = "33554432", description = "Most bytes of row data in one batch. Default: ${DEFAULT-VALUE} (32 MiB).")
  public long batchBytes;

  @Option(names = "--max-line-bytes", defaultValue = "65536", description = "Longer lines are rejected as line_too_long. Default: ${DEFAULT-VALUE}.")
  public int maxLineBytes;

  @Option(names = "--poll-interval", defaultValue = "25ms", converter = DurationConverter.class,
      description = "How often idle logs are checked for new lines, new files and rotation. Default: ${DEFAULT-VALUE}.")
  public Duration pollInterval;

  @Option(names = "--binlog-sync-interval", defaultValue = "1s", converter = DurationConverter.class,
      description = "How often the binlog is synced to disk (and always at shutdown). Default: ${DEFAULT-VALUE}.")
  public Duration binlogSyncInterval;

  @Option(names = "--status-file", paramLabel = "PATH",
      description = "Write the worker's status as JSON to PATH every 500 ms (atomically replaced; also the heartbeat the admin process watches).")
  public Path statusFile;

  public String nodeIdOrHostName() {
    if (nodeId != null && !nodeId.isBlank()) {
      return nodeId;
    }
    try {
      String h = InetAddress.getLocalHost().getHostName();
      int dot = h.indexOf('.');
      return dot > 0 ? h.substring(0, dot) : h;
    } catch (Exception e) {
      return "node-1";
    }
  }

  /**
   * These options as worker command-line arguments (for the child JVM the admin process starts), with
   * the node name resolved and {@code --db-url} set to {@code dbUrlForChild}. The password is not among
   * them: pass it in the environment ({@code LOGTAIL_DB_PASSWORD}), not on a command line others can read.
   */
  public List<String> toArgs(String dbUrlForChild) {
    List<String> a = new ArrayList<>();
    for (String l : logs) {
      a.add("--log");
      a.add(l);
    }
    a.add("--log-format");
    a.add(logFormat);
    a.add("--node-id");
    a.add(nodeIdOrHostName());
    a.add("--data-dir");
    a.add(dataDir.toString());
    if (dbUrlForChild != null) {
      a.add("--db-url");
      a.add(dbUrlForChild);
    }
    if (dbUser != null && !dbUser.isBlank()) {
      a.add("--db-user");
      a.add(dbUser);
    }
    a.add("--db-port");
    a.add(Integer.toString(dbPort));
    a.add("--flush-interval");
    a.add(flushInterval.toMillis() + "ms");
    a.add("--batch-linger");
    a.add(batchLinger.toMillis() + "ms");
    a.add("--batch-lines");
    a.add(Integer.toString(batchLines));
    a.add("--batch-bytes");
    a.add(Long.toString(batchBytes));
    a.add("--max-line-bytes");
    a.add(Integer.toString(maxLineBytes));
    a.add("--poll-interval");
    a.add(pollInterval.toMillis() + "ms");
    a.add("--binlog-sync-interval");
    a.add(binlogSyncInterval.toMillis() + "ms");
    return a;
  }

  public WorkerConfig toConfig() {
    WorkerConfig c = new WorkerConfig()
        .node(nodeIdOrHostName())
        .logFormat(logFormat)
        .flushInterval(flushInterval)
        .batchLinger(batchLinger)
        .batchMaxLines(batchLines)
        .batchMaxBytes(batchBytes)
        .maxLineBytes(maxLineBytes)
        .pollInterval(pollInterval)
        .binlogDir(dataDir.resolve("binlog"))
        .binlogSyncInterval(binlogSyncInterval);
    for (String l : logs) {
      c.addLog(l);
    }
    return c;
  }
}
