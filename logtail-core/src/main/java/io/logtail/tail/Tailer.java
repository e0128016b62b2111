package io.logtail.tail;

import io.logtail.util.Ticker;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails the files matched by the configured globs and delivers their lines to a {@link LineSink},
 * each byte of each stream exactly once per process, on one thread.
 *
 * <h2>Model</h2>
 * A <em>stream</em> ({@link TrackedStream}) is identified by the fingerprint of its first line and
 * has one read offset. A <em>file</em> ({@link TrackedFile}) is one device + inode, held open from
 * discovery. Each file, once its first line is on disk, is attached to the stream of its
 * fingerprint; a stream seen for the first time in this process resumes at
 * {@link OffsetLookup#committedOffset}, later at its in-process offset. So:
 * <ul>
 *   <li>rename (nginx reopen): the inode is found at a new path, path updated, read on through the
 *       open channel; the new file is a new stream. Renamed out of the globs or deleted: read to its
 *       end through the channel, closed {@code closeInactive} after its last growth or read.
 *   <li>copytruncate: the file shrank below its last observed size, or its first line changed at
 *       the same inode → {@link LineSink#truncated} with the bytes seen but unread, the stream is
 *       detached from the file, and the file's new content becomes a new stream once identifiable.
 *       If the copy is tailed too it holds the same fingerprint: the stream goes on from the copy.
 *   <li>several files with one fingerprint (a copy, a {@code .gz} of a rotated file): one stream,
 *       read from one "active" file at a time, always from the stream's offset, so no
 *       (fingerprint, offset) range is delivered twice in a process.
 *   <li>inode reuse: a plain file's inode is pinned by the open channel, so it is only recycled
 *       after the tailer closed it, and then it is a new file to the tailer whose fingerprint
 *       decides (new stream, or the resume offset of a known one). A changed fingerprint at an
 *       inode still held open is a truncation (above). A {@code .gz} is not held open between
 *       reads: once no glob matches it it is forgotten at once, a plain file found at its inode is
 *       a new file, and a {@code .gz} whose size, mtime or ctime changed is identified again.
 *   <li>order: streams are read oldest first ({@link LogOrder}); a file of a log that is not
 *       identified yet (a {@code .gz} whose first line is not decompressable, a file renamed or
 *       unreadable while being opened) holds back the files of that log with a lower rotation number
 *       for up to {@link #HOLD_BACK_NANOS}, since it may hold an older stream (at start, or after a
 *       rotation while the worker was down); an incomplete {@code .gz} whose first line is a known
 *       stream's (logrotate compressing a file already read) holds nothing back.
 *   <li>{@link Source#gzip()} tells the kind of file where the stream was first found in this
 *       process; one {@link Source} object is kept per stream whichever file it is read from, so
 *       that the sink sees one contiguous sequence of calls per source.
 * </ul>
 *
 * <h2>One pass ({@link #pollOnce})</h2>
 * discover (list the globs, stat each match; taken twice when it shows a change, and a log whose two
 * pictures differ, a rotation in progress, is held for the pass) → refresh each file (size, truncation, first line,
 * gzip completeness) → read each stream from its active file (at most {@link #PASS_BUDGET_BYTES}
 * per stream per pass, so one backlog does not starve the others) → close inactive detached files
 * → {@link LineSink#caughtUp} when everything available was read → publish the status snapshot.
 *
 * <p>Memory: one read buffer, one 4 KiB fingerprint buffer, and per stream only offsets (plus a
 * 2 KiB head while it skips an oversized line); nothing depends on the backlog. In-process
 * offsets of streams whose files are all closed are kept in a bounded map
 * ({@value #ENDED_STREAMS_KEPT} entries) so that a file coming back is not read twice.
 *
 * <p>Errors on a file (unreadable, vanished, I/O) are logged once with what to do, retried every
 * pass, and never stop the other files. Exceptions thrown by the sink propagate to the caller;
 * the offset of a line moves only after the sink accepted it, so it is delivered again, not lost.
 *
 * <p>Threads: {@link #pollOnce} and {@link #run} belong to one thread; {@link #snapshot} and
 * {@link #close} may be called from any thread.
 */
public final class Tailer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tailer.class);

  /** At most about this many bytes are scanned per stream in one pass. */
  static final long PASS_BUDGET_BYTES = 64L << 20;
  static final int ENDED_STREAMS_KEPT = 65536;

  private final LineSink sink;
  private final OffsetLookup offsets;
  private final Ticker ticker;
  private final List<LogGlob> globs;
  private final LineReader reader;
  private final byte[] fpScratch = new byte[Source.FINGERPRINT_MAX_BYTES];
  private final long closeInactiveNanos;
  private final long pollIntervalNanos;

  private final Map<FileKey, TrackedFile> files = new LinkedHashMap<>();
  private final Map<Long, TrackedStream> streams = new LinkedHashMap<>();
  private final Map<Long, Long> endedStreams = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
      return size() > ENDED_STREAMS_KEPT;
    }
  };
  private final OnceLog problems = new OnceLog();
  private long deliveredSinceCaughtUp;

  private volatile List<SourceStatus> snapshot = List.of();
  private volatile boolean closed;
  private volatile Thread runner;
  private boolean released;

  /** Builds a tailer and freezes {@code config} (after {@link TailerConfig#validate()}). */
  public Tailer(TailerConfig config, LineSink sink, OffsetLookup offsets) {
    config.freeze();
    this.sink = java.util.Objects.requireNonNull(sink, "sink");
    this.offsets = java.util.Objects.requireNonNull(offsets, "offsets");
    this.ticker = config.ticker();
    this.globs = config.globs();
    this.reader = new LineReader(config.readBufferBytes(), config.maxLineBytes(), sink);
    this.closeInactiveNanos = config.closeInactive().toNanos();
    this.pollIntervalNanos = config.pollInterval().toNanos();
    log.info("Tailing {}", config);
  }

  /**
   * One pass: discovers files, detects rename, rotation, truncation and deletion, reads what is
   * available and delivers it. Returns the number of bytes consumed (scanned past) in this pass.
   *
   * @throws InterruptedException when the sink was interrupted while blocking; nothing is lost,
   *     the next pass resumes after the last line the sink accepted
   */
  public int pollOnce() throws InterruptedException {
    if (closed) return 0;
    long now = ticker.nanos();
    holdBelow.clear();
    discover(now);
    truncatedInPass = false;
    for (TrackedFile f : new ArrayList<>(files.values())) {
      refresh(f, now);
    }
    if (truncatedInPass) {
      // A copytruncate ended a stream in this pass. Its copy (access.log.1), complete before the
      // truncate, may have appeared after the directory was listed: reading the new content now could
      // deliver it before the rest of the old stream. List again, which finds the copy.
      discover(now);
      for (TrackedFile f : new ArrayList<>(files.values())) {
        refresh(f, now);
      }
    }
    for (TrackedFile f : files.values()) {
      if (f.matched && !f.identified() && mayHoldAnOlderStream(f, now)) holdNewerThan(LogOrder.rotation(f.path));
    }
    long consumed = 0;
    boolean allAtEnd = true;
    // Streams are read oldest file first ({@link LogOrder}: rotation number within a log, modification
    // time across logs), and a newer stream is not read while an older one still has bytes beyond this
    // pass's budget: lines are delivered in log order across rotated files, which decides which vote
    // came first. LogOrder is also the order of logtail verify.
    List<TrackedStream> order = new ArrayList<>(streams.values());
    Map<TrackedStream, Long> mtimes = new java.util.IdentityHashMap<>();
    Map<TrackedStream, Path> paths = new java.util.IdentityHashMap<>();
    for (TrackedStream s : order) {
      // The stream's place: the file of its that carries the oldest name among those listed in this
      // pass (the .gz copy at access.log.3.gz, not the deleted plain file still open under the stale
      // name access.log.1, which now names another file), with the mtime discovery read for it. A
      // stream none of whose files was listed now (deleted while open, renamed away) keeps its active
      // file's last known name and mtime.
      TrackedFile at = null;
      for (TrackedFile f : s.files) {
        if (f.matched && (at == null || LogOrder.rotation(f.path).number() > LogOrder.rotation(at.path).number())) at = f;
      }
      if (at == null) at = chooseActive(s);
      if (at != null) {
        paths.put(s, at.path);
        mtimes.put(s, at.mtime > 0 ? at.mtime : Long.MAX_VALUE);
      } else {
        mtimes.put(s, Long.MAX_VALUE);
      }
    }
    LogOrder.sort(order, paths::get, mtimes::get);
    boolean olderPending = false;
    for (TrackedStream s : order) {
      if (olderPending) {
        allAtEnd = false;
        break;
      }
      TrackedFile f = chooseActive(s);
      if (f == null) continue;
      if (heldBack(f)) {
        // an older file of its log is not identified yet: reading this one now could take a voter's
        // second vote before the first
        allAtEnd = false;
        continue;
      }
      if (s.active != f) {
        if (s.active != null) {
          log.info("Stream {} continues from {} at offset {}", s.source.id(), f, s.readOffset);
        }
        s.active = f;
        s.source.relocate(f.key.device(), f.key.inode(), f.path);
        f.drainedSize = -1;
      }
      if (f.drainedSize == f.size) continue; // nothing new since it was read to its end
      long scanBefore = s.scanPosition();
      long readBefore = s.readOffset;
      try {
        boolean atEnd = reader.drain(s, f, PASS_BUDGET_BYTES);
        if (atEnd) {
          f.drainedSize = f.size;
          if (f.gz) f.gzip.close();
        } else {
          allAtEnd = false;
          olderPending = true;
        }
        if (problems.resolved(f.key)) log.info("{}: the problem reported earlier is resolved", f);
      } catch (IOException e) {
        allAtEnd = false;
        if (e instanceof FileReplacedException || e instanceof java.nio.file.NoSuchFileException) {
          // moved by a rotation while being opened: found at its new path on the next pass, and until
          // then it still holds unread bytes that newer streams must not overtake
          olderPending = true;
        }
        if (f.gz) f.gzip.close();
        if (problems.first(f.key, e.toString())) {
          log.warn("Error reading {} at offset {} ({}); will retry on the next poll", f,
              s.scanPosition(), e.toString());
        }
      } finally {
        long progress = s.scanPosition() - scanBefore;
        if (progress > 0) {
          consumed += progress;
          f.idleSinceNanos = now;
          f.size = Math.max(f.size, s.scanPosition());
        }
        deliveredSinceCaughtUp += s.readOffset - readBefore;
      }
    }
    closeInactive(now);
    if (allAtEnd && deliveredSinceCaughtUp > 0) {
      sink.caughtUp();
      deliveredSinceCaughtUp = 0;
    }
    publishSnapshot();
    return (int) Math.min(consumed, Integer.MAX_VALUE);
  }

  /** Calls {@link #pollOnce} until {@link #close}, waiting the poll interval after an idle pass. */
  public void run() {
    runner = Thread.currentThread();
    try {
      while (!closed) {
        int n;
        try {
          n = pollOnce();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        if (n == 0 && !awaitNextPoll()) return;
      }
    } finally {
      runner = null;
      release();
    }
  }

  /** Waits until the ticker passed the poll interval; false when interrupted. */
  private boolean awaitNextPoll() {
    long deadline = ticker.nanos() + pollIntervalNanos;
    while (!closed) {
      long remaining = deadline - ticker.nanos();
      if (remaining <= 0) return true;
      LockSupport.parkNanos(this, remaining);
      if (Thread.currentThread().isInterrupted()) return false;
    }
    return true;
  }

  /**
   * Stops {@link #run} at the end of its current pass (it then closes the files), or closes the
   * files now when it is not running. A sink blocked in backpressure is not interrupted by this:
   * interrupt the running thread to stop at once (nothing is lost, see {@link #pollOnce}).
   */
  @Override
  public void close() {
    closed = true;
    Thread r = runner;
    if (r != null) {
      LockSupport.unpark(r);
    } else {
      release();
    }
  }

  private synchronized void release() {
    if (released) return;
    released = true;
    for (TrackedFile f : files.values()) f.close();
  }

  /** Status of each file held, as of the end of the latest pass. Safe from any thread. */
  public List<SourceStatus> snapshot() {
    return snapshot;
  }

  // ---------------------------------------------------------------- discovery

  /** Per glob: the paths its latest accepted sweep listed ({@link #discover}). */
  private final Map<LogGlob, Set<Path>> lastListing = new java.util.HashMap<>();
  /** Test seam: called after each path a sweep examined; null in production. */
  java.util.function.Consumer<Path> afterExamine;

  /** One listing of a glob, and the regular file found at each path when it was examined. */
  private record Sweep(List<Path> listed, Map<Path, Map<String, Object>> attrs, Map<Path, FileKey> keys,
      Set<Path> vanished, boolean twoPathsOneFile) {
    boolean sameFiles(Sweep o) {
      return new HashSet<>(listed).equals(new HashSet<>(o.listed)) && keys.equals(o.keys)
          && vanished.equals(o.vanished);
    }
  }

  /**
   * Lists each glob and examines (stats) each match, then attaches what was found to the tracked files.
   *
   * <p>A listing and its stats take microseconds, but a rotation renames files meanwhile, and then the
   * picture can be one the directory was never in: a file examined at its old name, another at the name it
   * just moved to, the oldest stream at neither (found by WorkerClockJumpIT, 1 run in 10: a worker started
   * during a rotation examined {@code access.log.2.gz}, then {@code .3.gz} and {@code .4.gz} after they
   * moved up one, never saw the oldest file now at {@code .5.gz}, and read {@code .4.gz} first; verify then
   * counted another vote of a voter). So a sweep that shows any change from the files already tracked (a
   * file not seen before, a known file at another name, a listed name gone when examined, a file at two
   * names, names added or gone since the last pass) is taken again at once, and the two must show the same
   * files at the same names: a rename during the first changes at least one name's file between them (a
   * rotation does not put a file back at a name it left). When they differ the log is held for this pass
   * and read on the next. In the steady state (nothing renamed) each glob is listed once per pass.
   */
  private void discover(long now) {
    for (TrackedFile f : files.values()) f.matched = false;
    Set<Object> seen = new HashSet<>();
    Set<FileKey> keysThisPass = new HashSet<>();
    for (LogGlob glob : globs) {
      seen.add(glob);
      Sweep sweep;
      try {
        sweep = sweep(glob);
        if (changedSinceLastPass(glob, sweep)) {
          Sweep again = sweep(glob);
          if (!again.sameFiles(sweep)) {
            for (Path p : sweep.listed) holdAll(LogOrder.rotation(p).family());
            for (Path p : again.listed) holdAll(LogOrder.rotation(p).family());
          }
          sweep = again;
        }
        lastListing.put(glob, new HashSet<>(sweep.listed));
        holdIfNumbersHaveAGap(sweep.listed, now);
        if (problems.resolved(glob)) log.info("Directory {} of --log {} is readable now", glob.dir(), glob);
      } catch (NoSuchFileException e) {
        if (problems.first(glob, "missing")) {
          log.warn("Directory {} of --log {} does not exist; waiting for it to appear", glob.dir(), glob);
        }
        continue;
      } catch (IOException | RuntimeException e) {
        if (problems.first(glob, e.toString())) {
          log.warn("Cannot list directory {} of --log {} ({}); check that the logtail user may read "
              + "and search it. Retrying every poll", glob.dir(), glob, e.toString());
        }
        continue;
      }
      seen.addAll(sweep.listed);
      for (Path p : sweep.vanished) {
        // moved between listing and stat: seen at its new name on the next pass (or gone); until then it
        // may hold an older stream than the files newer in its log
        holdNewerThan(LogOrder.rotation(p));
      }
      for (Map.Entry<Path, Map<String, Object>> e : sweep.attrs.entrySet()) {
        Path p = e.getKey();
        Map<String, Object> attrs = e.getValue();
        FileKey key = sweep.keys.get(p);
        if (!keysThisPass.add(key)) continue; // a second path (hard link) of a file already seen
        TrackedFile f = files.get(key);
        boolean gz = p.getFileName().toString().endsWith(".gz");
        if (f != null && f.gz != gz && !f.holdsInode()) {
          // not pinned by an open descriptor, so the inode was freed and reused by another file
          log.info("{} is a new file at the freed inode of {}", p, f);
          forget(f);
          f = null;
        }
        if (f == null) {
          f = new TrackedFile(key, p, gz, now);
          files.put(key, f);
        } else if (!f.path.equals(p)) {
          log.info("{} was renamed to {}", f, p);
          f.path = p;
          if (f.stream != null && f.stream.active == f) {
            f.stream.source.relocate(key.device(), key.inode(), p);
          }
        }
        f.matched = true;
        f.diskSize = (Long) attrs.get("size");
        f.mtime = ((FileTime) attrs.get("lastModifiedTime")).to(java.util.concurrent.TimeUnit.NANOSECONDS);
        f.ctime = ((FileTime) attrs.get("ctime")).to(java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    }
    for (TrackedFile f : files.values()) seen.add(f.key);
    seen.addAll(gapSince.keySet());
    problems.retainOnly(seen);
  }

  /** Lists {@code glob} and examines each match (regular files only). */
  private Sweep sweep(LogGlob glob) throws IOException {
    List<Path> listed = glob.list();
    Map<Path, Map<String, Object>> attrs = new LinkedHashMap<>();
    Map<Path, FileKey> keys = new java.util.HashMap<>();
    Set<Path> vanished = new HashSet<>();
    Set<FileKey> distinct = new HashSet<>();
    boolean twoPathsOneFile = false;
    for (Path p : listed) {
      try {
        Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino,size,lastModifiedTime,ctime,isRegularFile");
        if (problems.resolved(p)) log.info("{} can be examined again", p);
        if (Boolean.TRUE.equals(a.get("isRegularFile"))) {
          FileKey key = new FileKey((Long) a.get("dev"), (Long) a.get("ino"));
          twoPathsOneFile |= !distinct.add(key);
          attrs.put(p, a);
          keys.put(p, key);
        }
      } catch (NoSuchFileException e) {
        vanished.add(p);
      } catch (IOException | RuntimeException e) {
        if (problems.first(p, e.toString())) {
          log.warn("Cannot examine {} ({}); check the permissions of the logtail user. Retrying "
              + "every poll", p, e.toString());
        }
      }
      if (afterExamine != null) afterExamine.accept(p);
    }
    return new Sweep(listed, attrs, keys, vanished, twoPathsOneFile);
  }

  /** Whether {@code s} shows anything that a rename could have caused since the last pass. */
  private boolean changedSinceLastPass(LogGlob glob, Sweep s) {
    if (!s.vanished.isEmpty() || s.twoPathsOneFile) return true;
    if (!new HashSet<>(s.listed).equals(lastListing.get(glob))) return true;
    for (Map.Entry<Path, FileKey> e : s.keys.entrySet()) {
      TrackedFile f = files.get(e.getValue());
      if (f == null || !f.path.equals(e.getKey())) return true;
    }
    return false;
  }

  /** Opens {@code path} and checks it is still the file {@code key} (not replaced meanwhile). */
  private static FileChannel openChecked(Path path, FileKey key) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
      if ((Long) a.get("dev") != key.device() || (Long) a.get("ino") != key.inode()) {
        throw new FileReplacedException(path + " was replaced while being opened");
      }
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The path now names another inode: a race with rotation, resolved on the next pass. */
  static final class FileReplacedException extends IOException {
    FileReplacedException(String message) {
      super(message);
    }
  }

  // ---------------------------------------------------------------- refresh and identity

  private void refresh(TrackedFile f, long now) {
    if (f.gz) {
      refreshGzip(f, now);
    } else {
      refreshPlain(f, now);
    }
  }

  private void refreshPlain(TrackedFile f, long now) {
    if (f.channel == null) {
      if (!f.matched) return; // gone before it could be opened: closed as inactive later
      try {
        f.channel = openChecked(f.path, f.key);
        f.problem = null;
        if (problems.resolved(f.key)) log.info("{} is readable now", f);
      } catch (FileReplacedException e) {
        log.debug("{}", e.getMessage());
        return;
      } catch (IOException e) {
        reportUnreadable(f, e);
        return;
      }
    }
    try {
      long size = f.channel.size();
      if (f.identified()) {
        if (size < f.size) {
          onTruncated(f, size, "shrank");
        } else if (!sameFirstLine(f)) {
          onTruncated(f, size, "got another first line");
        }
      }
      if (size != f.size) {
        f.idleSinceNanos = now;
        f.drainedSize = -1;
      }
      f.size = size;
      if (!f.identified()) identifyPlain(f);
    } catch (IOException e) {
      reportUnreadable(f, e);
    }
  }

  private void reportUnreadable(TrackedFile f, IOException e) {
    f.problem = e.toString();
    if (problems.first(f.key, f.problem)) {
      log.warn("Cannot read {} ({}). Give the logtail user read access to it (e.g. membership of the "
          + "group owning the nginx logs); retrying every poll", f, e.toString());
    }
  }

  private boolean sameFirstLine(TrackedFile f) throws IOException {
    int n = f.read(0, fpScratch, 0, f.fpLength);
    return n == f.fpLength
        && Fingerprint.xxHash64(fpScratch, 0, n) == f.stream.source.fingerprint();
  }

  private void identifyPlain(TrackedFile f) throws IOException {
    int n = f.read(0, fpScratch, 0, fpScratch.length);
    int len = Fingerprint.identifyingLength(fpScratch, n);
    if (len < 0) return; // no complete first line yet: wait
    attach(f, Fingerprint.xxHash64(fpScratch, 0, len), len);
  }

  private void refreshGzip(TrackedFile f, long now) {
    if (!f.matched) return; // only reachable through an open cursor now
    GzipContent.FileOpener opener = () -> openChecked(f.path, f.key);
    // The check results stand for the bytes they were made on (same size and mtime); f.gzip is
    // non-null exactly when those bytes were a complete gzip stream.
    boolean sameBytes = f.diskSize == f.gzCheckedDiskSize && f.mtime == f.gzCheckedMtime;
    if (sameBytes && f.ctime == f.gzCheckedCtime) {
      if (f.gzip != null && !f.identified()) attach(f, f.gzFingerprint, f.gzFpLength); // retry
      return;
    }
    GzipContent.Check check;
    try {
      if (sameBytes) {
        // Only the inode changed (a rename by logrotate, or a new file at a freed inode with the
        // same size and mtime): the first line says whether it is still the same content.
        Long fp = f.gzip == null ? null : GzipContent.firstLineFingerprint(opener, fpScratch);
        if (f.gzip == null || (fp != null && fp == f.gzFingerprint)) {
          f.gzCheckedCtime = f.ctime;
          if (f.gzip != null && !f.identified()) attach(f, f.gzFingerprint, f.gzFpLength);
          return;
        }
      }
      check = GzipContent.check(opener, reader.buffer(), fpScratch);
    } catch (FileReplacedException e) {
      log.debug("{}", e.getMessage());
      return;
    } catch (IOException e) {
      reportUnreadable(f, e);
      return;
    }
    f.gzCheckedDiskSize = f.diskSize;
    f.gzCheckedMtime = f.mtime;
    f.gzCheckedCtime = f.ctime;
    if (!check.complete()) {
      f.problem = check.problem();
      try {
        f.partialFingerprint = GzipContent.firstLineFingerprintOfPrefix(opener, fpScratch);
      } catch (IOException e) {
        f.partialFingerprint = null;
      }
      if (f.identified()) detach(f);
      if (f.gzip != null) {
        f.gzip.close();
        f.gzip = null;
      }
      if (problems.first(f.key, "incomplete gzip")) {
        log.info("{} is not a complete gzip stream yet ({}); it is read once complete, checked "
            + "again whenever it changes", f, check.problem());
      }
      return;
    }
    if (problems.resolved(f.key)) log.info("{} is a complete gzip stream now", f);
    f.problem = null;
    f.partialFingerprint = null;
    f.idleSinceNanos = now;
    f.size = check.length();
    f.drainedSize = -1;
    f.gzFingerprint = check.fingerprint();
    f.gzFpLength = check.fpLength();
    if (f.identified() && f.stream.source.fingerprint() != check.fingerprint()) detach(f);
    if (f.gzip == null) f.gzip = new GzipContent(opener);
    if (!f.identified()) attach(f, check.fingerprint(), check.fpLength());
  }

  /** Attaches {@code f} to the stream of {@code fingerprint}, creating the stream if needed. */
  private void attach(TrackedFile f, long fingerprint, int fpLength) {
    TrackedStream s = streams.get(fingerprint);
    if (s == null) {
      Long ended = endedStreams.get(fingerprint);
      long offset;
      if (ended != null) {
        offset = ended;
      } else {
        try {
          offset = offsets.committedOffset(fingerprint);
        } catch (RuntimeException e) {
          if (problems.first(f.key, "lookup " + e)) {
            log.warn("Cannot look up where to resume {} found in {} ({}); it is read once the offset "
                + "store answers. Retrying every poll", String.format("%016x", fingerprint), f,
                e.toString());
          }
          return;
        }
        if (offset < 0) {
          log.warn("Offset store returned {} for {}; reading it from 0", offset,
              String.format("%016x", fingerprint));
          offset = 0;
        }
      }
      endedStreams.remove(fingerprint);
      s = new TrackedStream(new Source(fingerprint, f.key.device(), f.key.inode(), f.path, f.gz), offset);
      streams.put(fingerprint, s);
      log.info("Stream {} found in {}: reading from offset {}", s.source.id(), f, offset);
    } else {
      log.info("{} holds stream {} too (a copy): read as one stream, now at offset {}", f,
          s.source.id(), s.readOffset);
    }
    f.stream = s;
    f.fpLength = fpLength;
    f.drainedSize = -1;
    s.files.add(f);
  }

  private void detach(TrackedFile f) {
    TrackedStream s = f.stream;
    if (s == null) return;
    s.files.remove(f);
    if (s.active == f) s.active = null;
    f.stream = null;
    f.fpLength = 0;
    if (s.files.isEmpty()) {
      streams.remove(s.source.fingerprint());
      endedStreams.put(s.source.fingerprint(), s.readOffset);
    }
  }

  /** Whether {@link #onTruncated} ran in this pass's refresh. */
  private boolean truncatedInPass;

  /**
   * How long an unidentified file holds back the newer files of its log: long enough for a rotation
   * in progress (a rename seen half done, a {@code .gz} whose first block is not written yet), short
   * enough that a file that stays unreadable (its problem is logged) does not stop the log.
   */
  static final long HOLD_BACK_NANOS = 10_000_000_000L;
  /** How long a gap in a log's rotation numbers holds the log ({@link #holdIfNumbersHaveAGap}). */
  static final long GAP_HOLD_NANOS = 1_000_000_000L;
  /** Per log family (this pass): files with a rotation number below this wait for the next pass. */
  private final Map<String, Integer> holdBelow = new java.util.HashMap<>();

  private void holdNewerThan(LogOrder.Rotation r) {
    holdBelow.merge(r.family(), r.number(), Math::max);
  }

  /** Holds every file of the log {@code family} in this pass. */
  private void holdAll(String family) {
    holdBelow.put(family, Integer.MAX_VALUE);
  }

  /** Per log: since when its rotated files' numbers have had a gap (see {@link #holdIfNumbersHaveAGap}). */
  private final Map<String, Long> gapSince = new java.util.HashMap<>();

  /**
   * logrotate numbers a log's rotated files 1, 2, 3... without a gap; a listing with one ({@code .2.gz}
   * without {@code .1}) was taken while a rotation renamed them, and may lack a file that was between two
   * names: the log is held in this pass, so that no newer stream is read before that file is seen (found
   * by WorkerClockJumpIT, 2 runs of 9: a worker started during a rotation listed {@code access.log} and
   * {@code access.log.2.gz}, read them, and only then found the older {@code access.log.4.gz}; verify then
   * counted another vote of a voter first). A rotation's renames take milliseconds: a gap that stays (a
   * rotated file deleted by hand) holds its log for {@link #GAP_HOLD_NANOS} once, and is said.
   */
  private void holdIfNumbersHaveAGap(List<Path> paths, long now) {
    Map<String, java.util.BitSet> numbers = new java.util.HashMap<>();
    for (Path p : paths) {
      LogOrder.Rotation r = LogOrder.rotation(p);
      if (r.number() > 0 && r.number() < 1_000) {
        numbers.computeIfAbsent(r.family(), k -> new java.util.BitSet()).set(r.number());
      }
    }
    for (Map.Entry<String, java.util.BitSet> e : numbers.entrySet()) {
      java.util.BitSet n = e.getValue();
      int missing = n.nextClearBit(1);
      if (missing > n.length() - 1) {
        gapSince.remove(e.getKey());
        continue;
      }
      long since = gapSince.computeIfAbsent(e.getKey(), k -> now);
      if (now - since <= GAP_HOLD_NANOS) {
        holdAll(e.getKey());
      } else if (problems.first(e.getKey(), "gap")) {
        log.warn("{}.{} is missing among the rotated files of {} (up to .{}) for over {} ms: read on without it",
            e.getKey(), missing, e.getKey(), n.length() - 1, GAP_HOLD_NANOS / 1_000_000L);
      }
    }
  }

  private boolean heldBack(TrackedFile f) {
    if (holdBelow.isEmpty()) return false;
    LogOrder.Rotation r = LogOrder.rotation(f.path);
    Integer below = holdBelow.get(r.family());
    return below != null && r.number() < below;
  }

  /**
   * An unidentified file that may hold a stream older than the identified files of its log: found
   * in the last {@link #HOLD_BACK_NANOS}, and not an incomplete gzip copy of a stream already known.
   */
  private boolean mayHoldAnOlderStream(TrackedFile f, long now) {
    if (now - f.firstSeenNanos > HOLD_BACK_NANOS) return false;
    return !(f.gz && f.partialFingerprint != null && streams.containsKey(f.partialFingerprint));
  }

  /** {@code f} shrank or its first line changed at the same inode: its stream ends here. */
  private void onTruncated(TrackedFile f, long newSize, String how) {
    TrackedStream s = f.stream;
    f.truncations++;
    truncatedInPass = true;
    if (s.active == f || s.active == null) {
      long atRisk = Math.max(0, f.size - s.readOffset);
      f.bytesAtRisk += atRisk;
      log.warn("{} was truncated (copytruncate?): it {} (size {} -> {}) with stream {} read up to {}; "
          + "{} bytes seen but not read may be lost unless a copy of the file is tailed too. Its "
          + "new content is read as a new stream", f, how, f.size, newSize, s.source.id(),
          s.readOffset, atRisk);
      sink.truncated(s.source, s.readOffset, atRisk);
    } else {
      log.info("{}, a copy of stream {}, {}; the stream is read from {}", f, s.source.id(), how,
          s.active);
    }
    detach(f);
  }

  /** The file to read {@code s} from: the current one while it has more, else the largest. */
  private static TrackedFile chooseActive(TrackedStream s) {
    long pos = s.scanPosition();
    TrackedFile a = s.active;
    if (a != null && a.readable() && a.size > pos) return a;
    TrackedFile best = null;
    for (TrackedFile f : s.files) {
      if (f.readable() && f.size > pos && (best == null || f.size > best.size)) best = f;
    }
    if (best != null) return best;
    if (a != null && a.readable()) return a;
    for (TrackedFile f : s.files) {
      if (f.readable()) return f;
    }
    return null;
  }

  // ---------------------------------------------------------------- closing and status

  private void closeInactive(long now) {
    for (TrackedFile f : new ArrayList<>(files.values())) {
      if (f.matched) continue;
      if (!f.holdsInode()) {
        // Nothing can be read from it without a path, and its inode may be reused: forget it now.
        forget(f);
        continue;
      }
      if (now - f.idleSinceNanos < closeInactiveNanos) continue;
      TrackedStream s = f.stream;
      if (s != null && s.active == f && f.size > s.readOffset) {
        log.warn("Closing {}: no longer matched by any --log and inactive; its last {} bytes after "
            + "offset {} never got a terminating newline and are not delivered", f,
            f.size - s.readOffset, s.readOffset);
      } else {
        log.info("Closing {}: no longer matched by any --log and inactive", f);
      }
      forget(f);
    }
  }

  private void forget(TrackedFile f) {
    detach(f);
    f.close();
    files.remove(f.key);
  }

  private void publishSnapshot() {
    List<SourceStatus> rows = new ArrayList<>(files.size());
    for (TrackedFile f : files.values()) {
      TrackedStream s = f.stream;
      SourceStatus.State state;
      if (s == null) {
        if (!f.gz && f.channel == null && f.problem != null) state = SourceStatus.State.UNREADABLE;
        else if (f.gz) state = SourceStatus.State.GZIP_INCOMPLETE;
        else state = SourceStatus.State.WAITING_FOR_FIRST_LINE;
      } else if (s.active != null && s.active != f) {
        state = SourceStatus.State.COPY;
      } else if (!f.matched) {
        state = SourceStatus.State.DETACHED;
      } else if (f.size > s.scanPosition() && f.drainedSize != f.size) {
        state = SourceStatus.State.READING;
      } else {
        state = SourceStatus.State.CAUGHT_UP;
      }
      rows.add(new SourceStatus(f.path, s == null ? null : s.source.id(), f.size,
          s == null ? 0 : s.readOffset, state, f.truncations, f.bytesAtRisk));
    }
    snapshot = List.copyOf(rows);
  }

  /** Bytes of heap held for reading, whatever the backlog: buffers and oversized-line heads. */
  long retainedBytes() {
    long n = reader.buffer().length + fpScratch.length + TailerConfig.OVERSIZED_HEAD_BYTES;
    for (TrackedStream s : streams.values()) n += s.heldBytes();
    return n;
  }
}
