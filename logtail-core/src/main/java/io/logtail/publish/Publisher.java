package io.logtail.publish;

import io.logtail.db.Database;
import io.logtail.event.BeaconDecoder;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publisher: every {@code interval} it reads the committed results in one snapshot
 * ({@link ResultsQuery}) and writes them as flat files under the publish directory for nginx to serve
 * (the contract: docs/results.md):
 * <pre>
 *   results/index.json            every ballot, its totals, turnout; seq; updated_at; batches
 *   results/ballot/&lt;ballot&gt;.json  one per ballot: choices, shares, duplicates, rejects by reason
 *   canvass/cells.geojson         the 0.001° locality cells (read every cellsInterval)
 *   results/status.json           the heartbeat, every cycle: ok, checked_at, stale_since, error
 * </pre>
 * each with a {@code .gz} copy, written atomically ({@link AtomicFiles}).
 *
 * <p><b>Only what changed.</b> A file is rewritten only when its data changed (its bytes without the
 * header: {@link ResultsJson}); {@code updated_at} is the commit time of the newest batch, so the same
 * data gives the same bytes. {@code seq} grows by one in every cycle that changes any results file; the
 * changed files carry it, a file that did not change keeps the seq, {@code batches} and {@code
 * updated_at} of the cycle that last changed it (its data is the same at every later batch), and
 * {@code index.json}, rewritten whenever anything changed, always carries the newest. At start the
 * publisher reads back the files it wrote before (their data, and the largest seq), so a restart
 * rewrites nothing that did not change and seq never goes back.
 *
 * <p><b>Last good on error.</b> When the database is unreachable or a query fails, no results file is
 * touched: readers keep the last good files; {@code status.json} says {@code ok:false},
 * {@code stale_since} and the error; the log has one line (repeated at most once a minute while the
 * same error lasts, then one line when publishing resumes); the schedule goes on and the next cycle
 * tries again, without a restart.
 *
 * <p><b>Schedule.</b> One thread; cycles start every {@code interval} from the start (a cycle that
 * overruns makes the next one start at the next slot, never two at once). It runs in the admin JVM
 * ({@code logtail run --publish-dir}) on a pool of its own, one connection ({@link #openPool}), or
 * alone ({@code logtail publish}). One publisher per directory: it holds {@code .publish.lock}.
 *
 * <p>Wall-clock time (checked_at, stale_since, when the cells are due) comes from the injected
 * {@link Clock}.
 */
public final class Publisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Publisher.class);
  private static final Duration REPEAT_LOG = Duration.ofMinutes(1);
  private static final int MAX_ERROR_CHARS = 300;

  private final PublisherConfig cfg;
  private final ResultsQuery query;
  private final Clock clock;
  private final Path results;
  private final Path ballotDir;
  private final Path canvass;
  private final ExecutorService io;
  private final AtomicFiles files;
  private final Object wake = new Object();

  // published state (only the publishing thread writes; read back at start)
  private long seq;
  private String indexData;
  private String cellsData;
  private final Map<String, String> ballotData = new HashMap<>();
  private final Set<String> unsafeNamesLogged = new HashSet<>();
  private Instant lastCellsAt;
  /** The ballots whose files (and index data) are on disk, as of the last successful write; null at start. */
  private List<ResultsSnapshot.Ballot> writtenBallots;

  // failure bookkeeping
  private Instant staleSince;
  private String lastError;
  private Instant lastErrorLoggedAt;
  private Instant lastSuccessAt;
  private long cycles;
  private long failures;
  private long filesWritten;
  private int lastBallots;
  private long lastCells = -1;
  private double lastQueryMs;
  private double lastWriteMs;

  private final Instant startedAt;
  private volatile PublisherState state;
  private volatile FileChannel lockChannel;
  private volatile FileLock lock;
  private Thread thread;
  private volatile boolean closed;

  public Publisher(DataSource ds, PublisherConfig cfg, Clock clock) {
    this.cfg = cfg;
    this.clock = clock;
    this.query = new ResultsQuery(ds, cfg.statementTimeout());
    this.results = cfg.dir().resolve("results");
    this.ballotDir = results.resolve("ballot");
    this.canvass = cfg.dir().resolve("canvass");
    AtomicInteger n = new AtomicInteger();
    this.io = Executors.newFixedThreadPool(cfg.writeThreads(), r -> {
      Thread t = new Thread(r, "logtail-publish-io-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.files = new AtomicFiles(io, cfg.fsync());
    this.startedAt = clock.instant();
    this.state = snapshotState(false, null, 0);
  }

  /**
   * The publisher's own pool: one connection, a 2 s connection timeout (an unreachable database fails
   * the cycle in 2 s), a socket timeout (a silent network cannot hang it), so that it never competes
   * with the worker for connections and never blocks the admin process.
   */
  public static Database openPool(String jdbcUrl, String user, String password) {
    String url = jdbcUrl.contains("socketTimeout=") ? jdbcUrl
        : jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "socketTimeout=120";
    return Database.builder(url).user(blank(user)).password(blank(password)).poolName("logtail-publish")
        .maxPoolSize(1).connectionTimeout(Duration.ofSeconds(2)).build();
  }

  private static String blank(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /**
   * Takes the directory's lock, reads back what an earlier run published (seq, data). Called by
   * {@link #start()}, or alone before {@link #publishOnce()}.
   *
   * @throws IllegalStateException when another publisher holds the directory
   */
  public synchronized Publisher open() throws IOException {
    if (lock != null) {
      return this;
    }
    AtomicFiles.createDirectories(ballotDir);
    AtomicFiles.createDirectories(canvass);
    Path lockFile = cfg.dir().resolve(".publish.lock");
    lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException("another publisher writes to " + cfg.dir() + " (it holds " + lockFile
          + "): stop it, or give this one another --publish-dir");
    }
    for (Path d : List.of(results, ballotDir, canvass)) {
      AtomicFiles.removeTemps(d);
    }
    readBack();
    state = snapshotState(false, null, 0);
    return this;
  }

  private void readBack() throws IOException {
    long max = 0;
    String idx = readIfExists(results.resolve("index.json"));
    if (idx != null && gzipMatches(results.resolve("index.json"), idx)) {
      indexData = ResultsJson.dataOf(idx);
      max = Math.max(max, ResultsJson.seqOf(idx));
    }
    String st = readIfExists(results.resolve("status.json"));
    if (st != null) {
      max = Math.max(max, ResultsJson.seqOf(st));
    }
    String cells = readIfExists(canvass.resolve("cells.geojson"));
    if (cells != null && gzipMatches(canvass.resolve("cells.geojson"), cells)) {
      cellsData = ResultsJson.dataOf(cells);
      max = Math.max(max, ResultsJson.seqOf(cells));
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(ballotDir, "*.json")) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        String ballot = name.substring(0, name.length() - ".json".length());
        String text = readIfExists(p);
        if (text != null) {
          String data = ResultsJson.dataOf(text);
          if (data != null && gzipMatches(p, text)) {
            ballotData.put(ballot, data);
          }
          max = Math.max(max, ResultsJson.seqOf(text));
        }
      }
    }
    long floor = SeqFile.read(cfg.seqFile());
    if (floor > max) {
      log.info("publisher: {} holds seq {}, above the files' {} (the publish directory was emptied, e.g. a tmpfs after"
          + " a reboot): going on from it", cfg.seqFile(), floor, max);
      max = floor;
    }
    seq = max;
    log.info("publisher: {} ({} ballot files found, seq {})", cfg.dir(), ballotData.size(), seq);
  }

  /**
   * Whether {@code <file>.gz} holds {@code text}: a file whose twin is missing, torn or different (a
   * crash between the two renames, or a power loss without --publish-fsync) is rewritten.
   */
  private static boolean gzipMatches(Path file, String text) {
    try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(AtomicFiles.gz(file)))) {
      return java.util.Arrays.equals(in.readAllBytes(), text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return false;
    }
  }

  private static String readIfExists(Path p) throws IOException {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    } catch (java.nio.charset.MalformedInputException e) {
      return "";   // not a file of ours: rewritten
    }
  }

  /** Opens (if not yet) and starts the publishing thread. */
  public synchronized Publisher start() throws IOException {
    open();
    thread = new Thread(this::loop, "logtail-publisher");
    thread.setDaemon(true);
    thread.start();
    log.info("publisher: publishing every {} ms to {} (cells every {} ms)", cfg.interval().toMillis(), cfg.dir(),
        Math.max(cfg.interval().toMillis(), cfg.cellsInterval().toMillis()));
    return this;
  }

  private void loop() {
    long intervalNs = cfg.interval().toNanos();
    long next = System.nanoTime();
    while (!closed) {
      try {
        publishOnce();
      } catch (Throwable t) {   // a bug must not end publishing: logged, and the next cycle runs
        log.error("publisher: unexpected failure of a cycle", t);
      }
      long now = System.nanoTime();
      next += intervalNs;
      if (next - now < 0) {
        next += ((now - next) / intervalNs + 1) * intervalNs;   // overran: the next slot, not a burst
      }
      synchronized (wake) {
        while (!closed) {
          long wait = next - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(wake, wait);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }
  }

  /** The state for the status port. */
  public PublisherState state() {
    return state;
  }

  public PublisherConfig config() {
    return cfg;
  }

  /**
   * One cycle: read, write what changed, write status.json. Never throws for a database or disk
   * failure: that is the cycle's result.
   *
   * @return whether the cycle succeeded
   */
  public synchronized boolean publishOnce() throws IOException {
    if (lock == null) {
      open();
    }
    long t0 = System.nanoTime();
    Instant now = clock.instant();
    cycles++;
    boolean cellsDue = lastCellsAt == null
        || !now.isBefore(lastCellsAt.plus(cfg.cellsInterval()));
    boolean ok;
    String error = null;
    try {
      ResultsSnapshot snap = query.read(cellsDue);
      long t1 = System.nanoTime();
      lastQueryMs = (t1 - t0) / 1e6;
      write(snap);
      lastWriteMs = (System.nanoTime() - t1) / 1e6;
      lastBallots = snap.ballots().size();
      if (cellsDue) {
        lastCellsAt = now;
      }
      ok = true;
    } catch (SQLException e) {
      ok = false;
      // the pool's "connection is not available" hides why: the driver's reason (refused, auth, ...) is its cause
      Throwable cause = e.getCause();
      error = oneLine("database: " + e.getMessage() + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")")
          + (cause != null && cause.getMessage() != null && cause != e ? ": " + cause.getMessage() : ""));
    } catch (IOException | RuntimeException e) {
      ok = false;
      error = oneLine("files: " + e);
    }
    if (ok) {
      if (staleSince != null) {
        log.info("publisher: publishing again (seq {}); the files were stale since {}", seq, staleSince);
      }
      staleSince = null;
      lastError = null;
      lastErrorLoggedAt = null;
      lastSuccessAt = now;
    } else {
      failures++;
      if (staleSince == null) {
        staleSince = now;
      }
      // the same failure again (figures aside: "timed out after 2001ms") is logged at most once a minute
      if (lastError == null || !sameFailure(error, lastError) || lastErrorLoggedAt == null
          || !now.isBefore(lastErrorLoggedAt.plus(REPEAT_LOG))) {
        log.warn("publisher: cycle failed, the published files stay as they are (stale since {}; retrying every {} ms): {}",
            staleSince, cfg.interval().toMillis(), error);
        lastErrorLoggedAt = now;
      }
      lastError = error;
    }
    try {
      files.write(List.of(), List.of(new AtomicFiles.Pending(results.resolve("status.json"), ResultsJson.status(seq, now,
          cfg.interval(), ok, staleSince, lastError, lastSuccessAt).getBytes(StandardCharsets.UTF_8))));
    } catch (IOException e) {
      String msg = oneLine("cannot write status.json: " + e);
      if (ok) {
        log.warn("publisher: {}", msg);
      }
    }
    state = snapshotState(ok, now, (System.nanoTime() - t0) / 1e6);
    return ok;
  }

  private void write(ResultsSnapshot snap) throws IOException {
    Map<String, String> changedBallots = new HashMap<>();
    Set<String> present = new HashSet<>();
    // the same ballots as in the last cycle that wrote its files: no ballot file and no index data can
    // differ, so none is rendered (most of a quiet cycle's cost at 5,000 ballots)
    boolean sameBallots = snap.ballots().equals(writtenBallots);
    for (ResultsSnapshot.Ballot b : sameBallots ? List.<ResultsSnapshot.Ballot>of() : snap.ballots()) {
      if (!BeaconDecoder.isIdentifier(b.ballot())) {
        if (unsafeNamesLogged.add(b.ballot())) {
          log.warn("publisher: ballot {} is in index.json but gets no file of its own: its name is not an"
              + " identifier (1 to 64 letters, digits, '.', '_', '-')", ResultsJson.quoted(b.ballot()));
        }
        continue;
      }
      present.add(b.ballot());
      String data = ResultsJson.ballotData(b);
      if (!data.equals(ballotData.get(b.ballot()))) {
        changedBallots.put(b.ballot(), data);
      }
    }
    List<String> removed = new ArrayList<>();
    for (String old : sameBallots ? Set.<String>of() : ballotData.keySet()) {
      if (!present.contains(old)) {
        removed.add(old);
      }
    }
    String newCells = snap.cells() == null ? null : ResultsJson.cellsData(snap.cells());
    boolean cellsChanged = newCells != null && !newCells.equals(cellsData);
    String newIndex = sameBallots ? indexData : ResultsJson.indexData(snap);
    boolean indexChanged = !newIndex.equals(indexData);
    if (changedBallots.isEmpty() && removed.isEmpty() && !cellsChanged && !indexChanged) {
      writtenBallots = snap.ballots();
      return;
    }
    long next = seq + 1;
    seq = next;   // taken even if the writes fail: a seq that reached some file is never used again
    SeqFile.write(cfg.seqFile(), next);   // before any file carries it
    List<AtomicFiles.Pending> out = new ArrayList<>(changedBallots.size() + 2);
    for (Map.Entry<String, String> e : changedBallots.entrySet()) {
      out.add(pending(ballotDir.resolve(e.getKey() + ".json"),
          ResultsJson.ballot(next, e.getKey(), snap.updatedAt(), snap.batches(), e.getValue())));
    }
    if (cellsChanged) {
      out.add(pending(canvass.resolve("cells.geojson"), ResultsJson.cells(next, snap.updatedAt(), snap.batches(), newCells)));
    }
    // last: a reader who sees the new index finds every ballot file it names
    files.write(out, List.of(pending(results.resolve("index.json"),
        ResultsJson.index(next, snap.updatedAt(), snap.batches(), newIndex))));
    filesWritten += out.size() + 1;
    ballotData.putAll(changedBallots);
    if (cellsChanged) {
      cellsData = newCells;
      lastCells = snap.cells().size();
    }
    indexData = newIndex;
    for (String r : removed) {
      AtomicFiles.delete(ballotDir.resolve(r + ".json"));
      ballotData.remove(r);
    }
    writtenBallots = snap.ballots();
  }

  private static AtomicFiles.Pending pending(Path p, String text) {
    return new AtomicFiles.Pending(p, text.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean sameFailure(String a, String b) {
    return a.replaceAll("\\d+", "#").equals(b.replaceAll("\\d+", "#"));
  }

  private static String oneLine(String s) {
    String t = s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    return t.length() > MAX_ERROR_CHARS ? t.substring(0, MAX_ERROR_CHARS) + "..." : t;
  }

  private PublisherState snapshotState(boolean ok, Instant checkedAt, double cycleMs) {
    return new PublisherState(ok, seq, startedAt, checkedAt, lastSuccessAt, staleSince, lastError, cycleMs,
        lastQueryMs, lastWriteMs, cycles,
        failures, filesWritten, lastBallots, lastCells);
  }

  /**
   * Stops the thread and releases the directory. Waits at most 5 s for a cycle in progress (a stop
   * must not wait for a slow database: the thread is a daemon, and a cycle cut short leaves only
   * complete files).
   */
  @Override
  public void close() {
    closed = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    Thread t = thread;
    if (t != null) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // not synchronized: a cycle stuck on the database must not hold the stop up (its writes fail once io is shut down)
    io.shutdownNow();
    try {
      FileLock l = lock;
      if (l != null) {
        l.release();
        lockChannel.close();
      }
    } catch (IOException e) {
      log.debug("publisher: releasing the lock: {}", e.toString());
    }
    lock = null;
  }
}
