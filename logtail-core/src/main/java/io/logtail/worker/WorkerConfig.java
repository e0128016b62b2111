package io.logtail.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of one worker (tailer + flusher). Validated when set; frozen when the worker starts.
 * Defaults are documented in docs/config-reference.md.
 */
public final class WorkerConfig {
  private String node;
  private final List<String> logs = new ArrayList<>();
  private String logFormat = "combined";
  private Duration flushInterval = Duration.ofMillis(250);
  private Duration batchLinger = Duration.ofMillis(50);
  private int batchMaxLines = 50_000;
  private long batchMaxBytes = 32L << 20;
  private int maxLineBytes = 64 * 1024;
  private Duration pollInterval = Duration.ofMillis(25);
  private Path binlogDir;
  private Duration binlogSyncInterval = Duration.ofSeconds(1);
  private volatile boolean frozen;

  private void check() {
    if (frozen) {
      throw new IllegalStateException("worker configuration cannot change once the worker started");
    }
  }

  public WorkerConfig node(String node) {
    check();
    if (node == null || !node.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("--node-id must be 1 to 64 of letters, digits, '.', '_', '-'; was: " + node);
    }
    this.node = node;
    return this;
  }

  public WorkerConfig addLog(String pathOrGlob) {
    check();
    if (pathOrGlob == null || pathOrGlob.isBlank()) {
      throw new IllegalArgumentException("--log needs a path or glob");
    }
    logs.add(pathOrGlob);
    return this;
  }

  public WorkerConfig logFormat(String format) {
    check();
    if (format == null || format.isBlank()) {
      throw new IllegalArgumentException("--log-format must not be empty (use 'combined' or the text of log_format)");
    }
    this.logFormat = format;
    return this;
  }

  public WorkerConfig flushInterval(Duration d) {
    check();
    if (d.isNegative() || d.toMillis() > 60_000) {
      throw new IllegalArgumentException("--flush-interval must be between 0 and 60s; was " + d);
    }
    this.flushInterval = d;
    return this;
  }

  public WorkerConfig batchLinger(Duration d) {
    check();
    if (d.isNegative() || d.toMillis() > 60_000) {
      throw new IllegalArgumentException("--batch-linger must be between 0 and 60s; was " + d);
    }
    this.batchLinger = d;
    return this;
  }

  public WorkerConfig batchMaxLines(int n) {
    check();
    if (n < 1 || n > 1_000_000) {
      throw new IllegalArgumentException("--batch-lines must be between 1 and 1000000; was " + n);
    }
    this.batchMaxLines = n;
    return this;
  }

  public WorkerConfig batchMaxBytes(long n) {
    check();
    if (n < 64 * 1024 || n > (512L << 20)) {
      throw new IllegalArgumentException("--batch-bytes must be between 64 KiB and 512 MiB; was " + n);
    }
    this.batchMaxBytes = n;
    return this;
  }

  public WorkerConfig maxLineBytes(int n) {
    check();
    if (n < 256 || n > (16 << 20)) {
      throw new IllegalArgumentException("--max-line-bytes must be between 256 and 16 MiB; was " + n);
    }
    this.maxLineBytes = n;
    return this;
  }

  public WorkerConfig pollInterval(Duration d) {
    check();
    if (d.toMillis() < 1 || d.toMillis() > 10_000) {
      throw new IllegalArgumentException("--poll-interval must be between 1ms and 10s; was " + d);
    }
    this.pollInterval = d;
    return this;
  }

  public WorkerConfig binlogDir(Path dir) {
    check();
    this.binlogDir = dir;
    return this;
  }

  public WorkerConfig binlogSyncInterval(Duration d) {
    check();
    if (d.isNegative() || d.toMillis() > 60_000) {
      throw new IllegalArgumentException("--binlog-sync-interval must be between 0 and 60s; was " + d);
    }
    this.binlogSyncInterval = d;
    return this;
  }

  void freeze() {
    if (node == null) {
      throw new IllegalArgumentException("a node id is needed (--node-id)");
    }
    if (logs.isEmpty()) {
      throw new IllegalArgumentException("no log to tail: give --log PATH (repeatable; globs allowed)");
    }
    if (binlogDir == null) {
      throw new IllegalArgumentException("no binlog directory (--data-dir)");
    }
    frozen = true;
  }

  public String node() { return node; }
  public List<String> logs() { return List.copyOf(logs); }
  public String logFormat() { return logFormat; }
  public Duration flushInterval() { return flushInterval; }
  /** The linger time, at most the flush interval. */
  public Duration batchLinger() { return batchLinger.compareTo(flushInterval) > 0 ? flushInterval : batchLinger; }
  public int batchMaxLines() { return batchMaxLines; }
  public long batchMaxBytes() { return batchMaxBytes; }
  public int maxLineBytes() { return maxLineBytes; }
  public Duration pollInterval() { return pollInterval; }
  public Path binlogDir() { return binlogDir; }
  public Duration binlogSyncInterval() { return binlogSyncInterval; }
}
