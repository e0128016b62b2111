package io.logtail.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logtail.db.Database;
import io.logtail.publish.Publisher;
import io.logtail.publish.PublisherConfig;
import io.logtail.util.Ticker;
import io.logtail.worker.DatabaseSetup;
import io.logtail.worker.WorkerOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin process: opens the database (the embedded PostgreSQL, when no {@code --db-url}, so that it
 * outlives worker restarts), runs the worker as a child JVM and keeps it alive, fsyncs the tailed logs
 * and the binlog, and serves the status port.
 *
 * <p>Supervision, on one thread ({@code logtail-admin}), every 100 ms:
 * <ul>
 *   <li>exit of the worker: restart after a back-off of 1 s, doubled per consecutive failure up to 30 s
 *       (reset once a worker has run for a whole {@code --restart-window});</li>
 *   <li>heartbeat: the worker rewrites its status file every 500 ms; when its {@code written_at} (or
 *       the spawn time, before the first) is older than {@code --heartbeat-timeout}, the worker is hung:
 *       SIGKILL, {@code last_error} "heartbeat lost", restart;</li>
 *   <li>crash loop: a restart that would be the ({@code --max-restarts}+1)-th within
 *       {@code --restart-window} is not made: state {@code failed}, the reason in {@code last_error}.
 *       The admin then keeps serving the status port (so the reason can be read) until SIGTERM, and
 *       then exits 1, so that systemd records the failure.</li>
 * </ul>
 * The worker's standard input is a pipe that the admin holds open and never writes: when the admin dies,
 * however (SIGKILL included), the worker reads end-of-file and stops as on SIGTERM ({@code ParentWatch}).
 * Before starting a worker, the admin checks that no other process holds the binlog ({@link
 * PreviousWorker}: the worker of an earlier admin that has not stopped yet), and waits until none does.
 *
 * <p>SIGTERM ({@link #stop()}): SIGTERM to the worker (it commits its batch, syncs the binlog, exits 0),
 * up to 30 s, then SIGKILL; then the status port and the database close and the admin exits 0.
 */
public final class AdminProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminProcess.class);
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final long MIN_BACKOFF_MS = 1000;
  private static final long MAX_BACKOFF_MS = 30_000;
  private static final String[] COUNTERS = {"lines", "committed", "rejected", "skipped", "retransmits", "duplicates"};

  public enum State { STARTING, RUNNING, RESTARTING, FAILED, STOPPED }

  private final WorkerOptions wo;
  private final AdminOptions ao;
  private final Path statusFile;
  private final ClassDataArchive classData;
  // intervals (heartbeat, restart backoff, crash-loop window, fsync cadence, uptimes) are measured on this
  // monotonic ticker, in milliseconds; the wall clock only stamps what is shown ("at" fields): a clock set back
  // an hour would otherwise hold a restart or the fsync for an hour, and one set forward kill a healthy worker
  private final Ticker ticker;
  private final long adminStartedAt;
  private final CountDownLatch done = new CountDownLatch(1);
  private final Deque<Long> restartTimes = new ArrayDeque<>();
  private final long[] carried = new long[COUNTERS.length];
  private Database db;
  private StatusServer server;
  private Thread supervisor;
  private Thread prober;
  private volatile boolean stopping;
  private volatile Publisher publisher;   // null without --publish-dir
  private Database publisherPool;

  // state shown on the status port (written by the supervisor thread, read by the server's threads)
  private volatile State state = State.STARTING;
  private volatile Process process;
  private volatile long spawnedAt;
  private volatile long runningSince;
  private volatile int restarts;
  private volatile ObjectNode lastExit;
  private volatile String lastError;
  private volatile JsonNode workerStatus;
  private volatile long statusMtime;
  /** Monotonic ms when a status document with a new {@code written_at} was last read: the heartbeat. */
  private volatile long lastBeatAt;
  private long lastWrittenAt;
  private volatile boolean dbReachable;
  private volatile long dbCheckedAt;
  private volatile double fsyncLastMs = -1;
  private volatile long fsyncAt;
  private volatile int fsyncFiles;
  private volatile String fsyncError;
  private int consecutiveFailures;
  private long nextStartAt;
  private long nextFsyncAt;

  public AdminProcess(WorkerOptions wo, AdminOptions ao) {
    this(wo, ao, Ticker.system());
  }

  AdminProcess(WorkerOptions wo, AdminOptions ao, Ticker ticker) {
    this.ticker = ticker;
    this.adminStartedAt = monoMillis();
    this.nextStartAt = adminStartedAt;
    this.nextFsyncAt = adminStartedAt;
    this.wo = wo;
    this.ao = ao;
    this.statusFile = wo.dataDir.toAbsolutePath().resolve("worker-status.json");
    this.classData = ClassDataArchive.inDataDir(wo.dataDir);
    this.previousWorker = new PreviousWorker(wo.dataDir.toAbsolutePath().resolve("binlog"));
  }

  private final PreviousWorker previousWorker;

  /** Binds the status port (refused before anything else when its address needs a token), opens the database, starts the worker. */
  public AdminProcess start() throws IOException {
    server = StatusServer.start(ao.statusAddr, ao.statusToken, this);
    try {
      db = DatabaseSetup.open(wo);
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    dbReachable = db.reachable(Duration.ofSeconds(2));
    dbCheckedAt = System.currentTimeMillis();
    log.info("admin: status port on http://{}:{}/status; database {}", server.address().getHostString(),
        server.address().getPort(), db.redactedUrl());
    startPublisher();
    prober = new Thread(this::probeLoop, "logtail-admin-dbprobe");
    prober.setDaemon(true);
    prober.start();
    supervisor = new Thread(this::superviseLoop, "logtail-admin");
    supervisor.start();
    return this;
  }

  public StatusServer server() {
    return server;
  }

  public State state() {
    return state;
  }

  /** Asks for a clean stop: SIGTERM to the worker, wait for it (at most 30 s), then stop. */
  public synchronized void stop() {
    if (stopping) {
      return;   // a second SIGTERM changes nothing: the worker is given its 30 s
    }
    stopping = true;
    Thread s = supervisor;
    if (s != null) {
      s.interrupt();   // wakes the supervisor from its 100 ms pause
    }
  }

  /** Waits for the stop; true when stopped. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Exit status for the admin process after a stop: 1 when the worker had been given up on, else 0. */
  public int exitStatus() {
    return failedBeforeStop ? 1 : 0;
  }

  private volatile boolean failedBeforeStop;

  @Override
  public void close() throws InterruptedException {
    stop();
    awaitStopped(STOP_TIMEOUT.plusSeconds(10));
  }

  // ------------------------------------------------------------------ supervision

  private long monoMillis() {
    return ticker.nanos() / 1_000_000L;
  }

  private void superviseLoop() {
    try {
      while (!stopping) {
        long now = monoMillis();
        Process p = process;
        if (p == null) {
          if (state != State.FAILED && now >= nextStartAt) {
            String waiting = previousWorker.waitingFor(now);
            if (waiting == null) {
              spawn();
            } else {
              lastError = waiting;
            }
          }
        } else {
          readStatusFile(p);
          if (!p.isAlive()) {
            exited(p, now);
          } else {
            if (state != State.RUNNING && workerStatus != null && "running".equals(workerStatus.path("state").asText())) {
              state = State.RUNNING;
              runningSince = now;
            }
            checkHeartbeat(p, now);
          }
        }
        if (now >= nextFsyncAt) {
          nextFsyncAt = now + ao.fsyncInterval.toMillis();
          fsync();
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          // stop() interrupts
        }
      }
      shutdown();
    } catch (Throwable t) {
      log.error("admin: supervisor failed", t);
      lastError = "admin supervisor failed: " + t;
      try {
        shutdown();
      } catch (Throwable t2) {
        log.error("admin: shutdown failed", t2);
      }
    } finally {
      done.countDown();
    }
  }

  private void spawn() {
    try {
      Files.deleteIfExists(statusFile);
    } catch (IOException e) {
      log.warn("admin: cannot delete {}: {}", statusFile, e.toString());
    }
    List<String> cmd = workerCommand();
    // the worker's output (logback, on stderr) goes to the admin's stderr, each line prefixed with its pid
    // its standard input: a pipe only this process holds, so that it reads end-of-file when this process is
    // gone, however it died (ParentWatch); never written to, closed when the worker has exited
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE)
        .redirectErrorStream(true);
    pb.environment().put(io.logtail.worker.ParentWatch.ENV, Long.toString(ProcessHandle.current().pid()));
    if (wo.dbPassword != null && !wo.dbPassword.isBlank()) {
      pb.environment().put("LOGTAIL_DB_PASSWORD", wo.dbPassword);
    }
    try {
      Process p = pb.start();
      classData.started(p);
      workerComplaint = null;
      Thread pump = new Thread(() -> pump(p), "logtail-worker-output-" + p.pid());
      pump.setDaemon(true);
      pump.start();
      this.pump = pump;
      spawnedAt = monoMillis();
      workerStatus = null;
      statusMtime = 0;
      process = p;
      state = restarts == 0 ? State.STARTING : State.RESTARTING;
      log.info("admin: started worker pid {}", p.pid());
    } catch (IOException e) {
      lastError = "cannot start the worker JVM: " + e.getMessage();
      log.error("admin: {}", lastError);
      scheduleRestart(monoMillis());
    }
  }

  private volatile String workerComplaint;
  private volatile Thread pump;

  private void pump(Process p) {
    String prefix = "worker[" + p.pid() + "] ";
    try (java.io.BufferedReader r = new java.io.BufferedReader(
        new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        System.err.println(prefix + line);
        if (line.startsWith("logtail worker: ") || line.contains(" ERROR ")) {
          workerComplaint = line.length() > 500 ? line.substring(0, 500) + "..." : line;
        }
      }
    } catch (IOException e) {
      // the worker is gone
    }
  }

  List<String> workerCommand() {
    List<String> args = new ArrayList<>(wo.toArgs(db.jdbcUrl()));
    args.add("--status-file");
    args.add(statusFile.toString());
    return WorkerJvm.command(WorkerJvm.MODULE_AND_CHRONICLE_FLAGS, ao.workerHeap, classData, args);
  }

  private void readStatusFile(Process p) {
    try {
      long m = Files.getLastModifiedTime(statusFile).toMillis();
      if (m == statusMtime && workerStatus != null) {
        return;
      }
      JsonNode n = JSON.readTree(statusFile.toFile());
      if (n != null && n.path("pid").asLong() == p.pid()) {
        long written = n.path("written_at").asLong();
        if (written != lastWrittenAt) {
          lastWrittenAt = written;
          lastBeatAt = monoMillis();
        }
        workerStatus = n;
        statusMtime = m;
      }
    } catch (IOException e) {
      // not written yet, or replaced while read: next time
    }
  }

  private void checkHeartbeat(Process p, long now) {
    JsonNode st = workerStatus;
    long beat = st == null ? spawnedAt : Math.max(spawnedAt, lastBeatAt);
    if (now - beat > ao.heartbeatTimeout.toMillis()) {
      lastError = String.format(Locale.ROOT, "heartbeat lost: no status from worker pid %d for %.1f s; killed",
          p.pid(), (now - beat) / 1000.0);
      log.error("admin: {}", lastError);
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      heartbeatKilled = true;
    }
  }

  private boolean heartbeatKilled;

  private void exited(Process p, long now) {
    int code = p.exitValue();
    ObjectNode e = JsonNodeFactory.instance.objectNode();
    e.put("code", code);
    if (code > 128 && code < 128 + 65) {
      e.put("signal", code - 128);
    } else {
      e.putNull("signal");
    }
    e.put("at", System.currentTimeMillis());
    e.put("pid", p.pid());
    lastExit = e;
    Thread t = pump;
    if (t != null) {
      try {
        t.join(1000);   // the worker's last words, for last_error
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    JsonNode st = workerStatus;
    if (st != null) {
      JsonNode ev = st.path("events");
      for (int i = 0; i < COUNTERS.length; i++) {
        carried[i] += ev.path(COUNTERS[i]).asLong();
      }
    }
    if (!heartbeatKilled) {
      String failure = st == null ? null : st.path("failure").asText(null);
      if (failure == null) {
        failure = workerComplaint;
      }
      lastError = (code > 128 ? "worker killed by signal " + (code - 128) + " (exit status " + code + ")"
          : "worker exited with status " + code) + (failure == null ? "" : ": " + failure);
    }
    heartbeatKilled = false;
    log.warn("admin: worker pid {} ended: {}", p.pid(), lastError);
    closeStdin(p);
    process = null;
    workerStatus = null;
    if (state == State.RUNNING && now - runningSince >= ao.restartWindow.toMillis()) {
      consecutiveFailures = 0;
    }
    scheduleRestart(now);
  }

  private static void closeStdin(Process p) {
    try {
      p.getOutputStream().close();
    } catch (IOException e) {
      // gone with the worker
    }
  }

  private void scheduleRestart(long now) {
    while (!restartTimes.isEmpty() && restartTimes.peekFirst() < now - ao.restartWindow.toMillis()) {
      restartTimes.pollFirst();
    }
    if (restartTimes.size() >= ao.maxRestarts) {
      state = State.FAILED;
      lastError = String.format(Locale.ROOT, "crash loop: gave up after %d restarts within %d s; last: %s",
          restartTimes.size(), ao.restartWindow.toSeconds(), lastError);
      log.error("admin: {}. The status port stays up; stop with SIGTERM", lastError);
      return;
    }
    restartTimes.addLast(now);
    restarts++;
    consecutiveFailures++;
    long backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(consecutiveFailures - 1, 16));
    nextStartAt = now + backoff;
    state = State.RESTARTING;
    log.info("admin: restarting the worker in {} ms", backoff);
  }

  private void shutdown() {
    Thread.interrupted();   // the wake-up of stop() may still be pending: it must not cut the worker's stop short
    failedBeforeStop = state == State.FAILED;
    Process p = process;
    if (p != null && p.isAlive()) {
      log.info("admin: stopping worker pid {} (SIGTERM)", p.pid());
      p.destroy();
      try {
        if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          log.error("admin: worker pid {} did not stop within {} s; SIGKILL", p.pid(), STOP_TIMEOUT.toSeconds());
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
      }
      Thread t = pump;
      if (t != null) {
        try {
          t.join(1000);   // the worker's last log lines, before this process exits
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (!p.isAlive()) {
        int code = p.exitValue();
        ObjectNode e = JsonNodeFactory.instance.objectNode();
        e.put("code", code);
        e.putNull("signal");
        e.put("at", System.currentTimeMillis());
        e.put("pid", p.pid());
        lastExit = e;
        log.info("admin: worker stopped with status {}", code);
      }
    }
    process = null;
    state = State.STOPPED;
    fsync();
    stopPublisher();
    server.close();
    db.close();
  }

  // ------------------------------------------------------------------ publisher (--publish-dir)

  /**
   * The publisher, in this JVM (never in the worker's), on a pool of its own with one connection, on
   * its own thread: a slow or failing publish cannot hold up supervision or ingest.
   */
  private void startPublisher() throws IOException {
    PublisherConfig pc;
    try {
      pc = ao.publish.toConfig(wo.dataDir.toAbsolutePath().resolve("publish.seq"));
    } catch (IllegalArgumentException e) {
      closeAfterFailedStart();
      throw e;
    }
    if (pc == null) {
      return;
    }
    publisherPool = Publisher.openPool(db.jdbcUrl(), wo.dbUser, wo.dbPassword);
    Publisher p = new Publisher(publisherPool.dataSource(), pc, java.time.Clock.systemUTC());
    try {
      publisher = p.start();
    } catch (IllegalStateException | IOException e) {
      p.close();
      publisherPool.close();
      closeAfterFailedStart();
      throw new IllegalArgumentException("cannot publish to " + pc.dir() + ": " + e.getMessage(), e);
    }
  }

  private void closeAfterFailedStart() {
    server.close();
    db.close();
  }

  private void stopPublisher() {
    Publisher p = publisher;
    if (p != null) {
      p.close();
      publisherPool.close();
    }
  }

  /** The publisher, or null when not publishing. */
  public Publisher publisher() {
    return publisher;
  }

  // ------------------------------------------------------------------ fsync and probes

  private void fsync() {
    Set<Path> files = new LinkedHashSet<>();
    JsonNode st = workerStatus;
    if (st != null) {
      for (JsonNode s : st.path("sources")) {
        files.add(Path.of(s.path("path").asText()));
      }
    }
    Path binlog = wo.dataDir.resolve("binlog");
    if (Files.isDirectory(binlog)) {
      try (Stream<Path> w = Files.walk(binlog)) {
        w.filter(Files::isRegularFile).forEach(files::add);
      } catch (IOException | RuntimeException e) {
        // listed while the binlog rolled: next time
      }
    }
    long t0 = System.nanoTime();
    int n = 0;
    String err = null;
    for (Path f : files) {
      try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
        c.force(true);
        n++;
      } catch (IOException e) {
        err = f + ": " + e;   // rotated away or deleted meanwhile: nothing left to lose
      }
    }
    fsyncLastMs = (System.nanoTime() - t0) / 1e6;
    fsyncAt = System.currentTimeMillis();
    fsyncFiles = n;
    fsyncError = err;
  }

  private void probeLoop() {
    while (!stopping) {
      try {
        Thread.sleep(5000);
      } catch (InterruptedException e) {
        return;
      }
      if (!stopping) {
        dbReachable = db.reachable(Duration.ofSeconds(2));
        dbCheckedAt = System.currentTimeMillis();
      }
    }
  }

  // ------------------------------------------------------------------ status

  /** The {@code /status} document (fields documented in docs/operations.md, "Status port"). */
  public ObjectNode status() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    long now = monoMillis();
    JsonNode st = workerStatus;
    Process p = process;
    ObjectNode root = f.objectNode();
    ObjectNode w = root.putObject("worker");
    w.put("state", state.name().toLowerCase(Locale.ROOT));
    if (p != null && p.isAlive()) {
      w.put("pid", p.pid());
      w.put("uptime_s", (now - spawnedAt) / 1000);
    } else {
      w.putNull("pid");
      w.putNull("uptime_s");
    }
    w.put("restarts", restarts);
    w.set("last_exit", lastExit);
    w.put("last_error", lastError);
    w.put("worker_state", st == null ? null : st.path("state").asText(null));
    w.put("heartbeat_age_ms", st == null ? null : Math.max(0, now - lastBeatAt));
    w.put("admin_pid", ProcessHandle.current().pid());
    w.put("admin_uptime_s", (now - adminStartedAt) / 1000);

    ArrayNode sources = root.putArray("sources");
    long totalLag = 0;
    if (st != null) {
      for (JsonNode s : st.path("sources")) {
        sources.add(s.deepCopy());
        totalLag += s.path("lag_bytes").asLong();
      }
    }
    root.put("lag_bytes", totalLag);
    ObjectNode ev = root.putObject("events");
    for (int i = 0; i < COUNTERS.length; i++) {
      ev.put(COUNTERS[i], carried[i] + (st == null ? 0 : st.path("events").path(COUNTERS[i]).asLong()));
    }
    ObjectNode fl = root.putObject("flush");
    JsonNode sf = st == null ? null : st.get("flush");
    fl.put("batches", sf == null ? 0 : sf.path("batches").asLong());
    fl.set("last_commit_at", sf == null ? null : sf.get("last_commit_at"));
    fl.set("last_batch_ms", sf == null ? null : sf.get("last_batch_ms"));
    fl.set("rows_per_s", sf == null ? null : sf.get("rows_per_s"));
    ObjectNode bl = root.putObject("binlog");
    JsonNode sb = st == null ? null : st.get("binlog");
    bl.set("last_batch", sb == null ? null : sb.get("last_batch"));
    bl.set("synced_at", sb == null ? null : sb.get("synced_at"));
    ObjectNode d = root.putObject("database");
    JsonNode sd = st == null ? null : st.get("database");
    boolean workerSees = sd == null || sd.path("reachable").asBoolean(true);
    d.put("reachable", dbReachable && workerSees);
    d.put("url", db == null ? null : db.redactedUrl());
    d.put("checked_at", dbCheckedAt);
    d.put("worker_error", sd == null ? null : sd.path("last_error").asText(null));
    ObjectNode fs = root.putObject("fsync");
    if (fsyncLastMs < 0) {
      fs.putNull("last_ms");
      fs.putNull("at");
    } else {
      fs.put("last_ms", Math.round(fsyncLastMs * 1000) / 1000.0);
      fs.put("at", fsyncAt);
    }
    fs.put("files", fsyncFiles);
    fs.put("last_error", fsyncError);
    fs.put("interval_ms", ao.fsyncInterval.toMillis());
    root.set("publisher", PublisherStatus.json(publisher, now));
    return root;
  }

  /** Null when healthy, else why not (for {@code /health}). */
  public String unhealthyReason() {
    ObjectNode s = status();
    String ws = s.path("worker").path("state").asText();
    if (!"running".equals(ws)) {
      String err = s.path("worker").path("last_error").asText(null);
      return "worker " + ws + (err == null ? "" : ": " + err);
    }
    if (!s.path("database").path("reachable").asBoolean()) {
      return "database not reachable: " + s.path("database").path("url").asText();
    }
    long lag = s.path("lag_bytes").asLong();
    if (lag >= ao.healthMaxLagBytes) {
      return "lag " + lag + " bytes >= " + ao.healthMaxLagBytes;
    }
    return null;
  }
}
