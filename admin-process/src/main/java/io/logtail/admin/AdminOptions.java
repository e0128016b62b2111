package io.logtail.admin;

import io.logtail.publish.PublishOptions;
import io.logtail.worker.DurationConverter;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the admin process (the supervisor of the worker JVM and the status port). */
public final class AdminOptions {
  @Option(names = "--status-addr", paramLabel = "HOST:PORT", defaultValue = "${env:LOGTAIL_STATUS_ADDR:-127.0.0.1:9180}",
      description = "Where the status port listens (/status, /metrics, /health). A non-loopback address needs --status-token. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_STATUS_ADDR.")
  public String statusAddr;

  @Option(names = "--status-token", paramLabel = "TOKEN", defaultValue = "${env:LOGTAIL_STATUS_TOKEN}",
      description = "Bearer token the status port requires (Authorization: Bearer TOKEN). Env: LOGTAIL_STATUS_TOKEN.")
  public String statusToken;

  @Option(names = "--heartbeat-timeout", defaultValue = "20s", converter = DurationConverter.class,
      description = "A worker whose status file is older than this is hung: killed (SIGKILL) and restarted. Default: ${DEFAULT-VALUE}.")
  public Duration heartbeatTimeout;

  @Option(names = "--max-restarts", defaultValue = "5",
      description = "Give up (state failed) after this many worker restarts within --restart-window. Default: ${DEFAULT-VALUE}.")
  public int maxRestarts;

  @Option(names = "--restart-window", defaultValue = "60s", converter = DurationConverter.class,
      description = "Window of --max-restarts. Default: ${DEFAULT-VALUE}.")
  public Duration restartWindow;

  @Option(names = "--fsync-interval", defaultValue = "1s", converter = DurationConverter.class,
      description = "How often the tailed logs and the binlog are fsynced (nginx never does). Default: ${DEFAULT-VALUE}.")
  public Duration fsyncInterval;

  @Option(names = "--health-max-lag-bytes", defaultValue = "67108864",
      description = "/health answers 503 when the total lag exceeds this. Default: ${DEFAULT-VALUE} (64 MiB).")
  public long healthMaxLagBytes;

  // 192m: the worker's live set is small (at most 3 batches of 50,000 lines being built, planned or
  // written, the 12 MiB Bloom filter of committed keys, read buffers); a larger heap only lets the GC
  // put collections off, and RSS grows with it. Measured (docs/benchmarks.md): with 192m a 2 GB backlog
  // drained at the same speed with peak RSS 291 MB, against 315 MB with 256m.
  @Option(names = "--worker-heap", defaultValue = "192m", paramLabel = "SIZE",
      description = "-Xmx of the worker JVM. Default: ${DEFAULT-VALUE} (its live set is small; more heap only grows its RSS).")
  public String workerHeap;

  /** The publisher (issue 9): run by the admin process when {@code --publish-dir} is given. */
  @Mixin public PublishOptions publish = new PublishOptions();
}
