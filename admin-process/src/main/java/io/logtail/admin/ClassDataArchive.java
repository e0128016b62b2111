package io.logtail.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A class-data sharing archive of the worker JVM (HotSpot's dynamic AppCDS), kept in its data directory
 * ({@code <data-dir>/cds/worker-<key>.jsa}), so that a worker restarted on an existing data directory maps
 * the classes it needs (about 4,000: the JDBC driver, HikariCP, Chronicle Queue, logtail) instead of
 * reading, parsing and verifying them from the jars again.
 *
 * <p>Measured (a worker restarted on an existing data dir with 20,000 lines waiting, PostgreSQL on the same
 * machine, idle otherwise): launch to first commit 2.0–2.1 s without the archive, 1.5 s with it (with
 * the binlog opened beside the database set-up and logging configured in code; docs/benchmarks.md).
 *
 * <p>How: a launch that finds no archive for this JVM and class path runs the worker with
 * {@code -XX:ArchiveClassesAtExit=<temporary file>}: HotSpot writes the classes the worker loaded when it
 * exits normally. Only when that worker has exited with status 0 is the file renamed to its final name; a
 * worker killed or failed leaves no archive (its temporary file is removed), and the next launch tries
 * again. A launch that finds the archive runs with {@code -XX:SharedArchiveFile}. The key hashes the JVM
 * (java.home, its version) and every class-path entry (path, size, modification time): a rebuilt jar or
 * another JDK gets a new archive, and archives of other keys are removed. An archive is only a cache:
 * HotSpot checks it when mapping it, and without it (or with one it refuses) the worker runs as before,
 * only slower to start. A class path with a directory (the tests' {@code target/classes}) gets no archive:
 * HotSpot refuses to archive one. HotSpot's messages about the archive are turned off ({@code -Xlog:cds=off}): they
 * are warnings about classes it cannot archive (old class file versions in two libraries), not faults.
 *
 * <p>A worker that fails soon after its launch (within {@link #FAILING_START_NANOS}: bad settings, a database
 * that refuses it) would pay the dump (about 1 s of CPU at its exit) on every attempt of a crash loop, and keep
 * nothing: after such a failure the launches run without archive flags until one of them has run that long;
 * the launch after it tries to write the archive again.
 *
 * <p>One archive directory has one launcher at a time (the binlog's lock makes one worker per data
 * directory); {@link #flags()} waits for the renaming of the previous launch's archive, so a restart right
 * after a clean stop already uses it.
 */
public final class ClassDataArchive {
  /** The directory of the archives in a data dir. */
  public static final String DIR_NAME = "cds";
  private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);
  /** The renaming still to happen after a dumping worker exits, per archive directory. */
  private static final ConcurrentMap<Path, CompletableFuture<Void>> FINISHING = new ConcurrentHashMap<>();
  private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");

  private final Path dir;
  private final Path archive;
  private final boolean archivable;
  /** A dumping worker that fails within this long of its launch turns dumping off (see above). */
  static final long FAILING_START_NANOS = 60_000_000_000L;

  private final java.util.function.LongSupplier nanos;
  private Path dumping;   // the temporary file the last flags() asked for, or null
  private long launchedAt;   // nanos() at the last flags()
  // a dumping worker failed soon after its launch; until a launch lives long enough (set by exit callbacks, which
  // flags() awaits while it holds this object's lock: so no lock here)
  private volatile boolean dumpingOff;

  private ClassDataArchive(Path dir, String key, boolean archivable, java.util.function.LongSupplier nanos) {
    this.nanos = nanos;
    this.dir = dir;
    this.archivable = archivable;
    this.archive = dir.resolve("worker-" + key + ".jsa");
  }

  /** The archive of the worker JVM in {@code dataDir/cds}, for this JVM and class path. */
  public static ClassDataArchive inDataDir(Path dataDir) {
    return forClassPath(dataDir, System.getProperty("java.class.path"));
  }

  /** As {@link #inDataDir}, for a JVM started with {@code cp} as its class path (the tests). */
  static ClassDataArchive forClassPath(Path dataDir, String cp) {
    return forClassPath(dataDir, cp, System::nanoTime);
  }

  /** As above, with the monotonic clock {@code nanos} (the tests). */
  static ClassDataArchive forClassPath(Path dataDir, String cp, java.util.function.LongSupplier nanos) {
    return new ClassDataArchive(dataDir.resolve(DIR_NAME).toAbsolutePath().normalize(),
        key(System.getProperty("java.home"), System.getProperty("java.vm.version"), cp), jarsOnly(cp), nanos);
  }

  /**
   * Whether the class path is jars only, as the launcher's ({@code admin-process/target/lib/*}). HotSpot does
   * not archive a class path with a non-empty directory (the build's {@code target/classes}, as the tests
   * have): then the worker starts without an archive.
   */
  static boolean jarsOnly(String classPath) {
    for (String e : classPath.split(java.io.File.pathSeparator)) {
      if (e.isEmpty() || Files.isDirectory(Path.of(e))) {
        return false;
      }
    }
    return true;
  }

  /** The archive's final path (it may not exist). */
  public Path archive() {
    return archive;
  }

  /**
   * The JVM flags of the next worker launch: the archive's when it exists, otherwise those that make the
   * worker write it when it exits. Pass the started process to {@link #started(Process)}.
   */
  public synchronized List<String> flags() {
    awaitFinishing();
    dumping = null;
    launchedAt = nanos.getAsLong();
    if (!archivable) {
      return List.of();
    }
    List<String> f = new ArrayList<>(3);
    if (Files.isRegularFile(archive)) {
      f.add("-XX:SharedArchiveFile=" + archive);
    } else if (dumpingOff) {
      return List.of();
    } else {
      try {
        Files.createDirectories(dir);
        removeOthers();
        dumping = dir.resolve("." + archive.getFileName() + ".tmp");
        Files.deleteIfExists(dumping);
        f.add("-XX:ArchiveClassesAtExit=" + dumping);
      } catch (IOException e) {
        log.warn("worker class data: cannot prepare {} ({}); the worker starts without an archive", dir, e.toString());
        dumping = null;
        return List.of();
      }
    }
    f.addAll(QUIET);
    return f;
  }

  /** Tells the archive of the process started with the last {@link #flags()}: renamed when it exits with 0. */
  public synchronized void started(Process p) {
    Path tmp = dumping;
    dumping = null;
    long at = launchedAt;
    if (tmp == null) {
      if (dumpingOff) {
        FINISHING.put(dir, p.onExit().thenAccept(done -> livedLongEnough(at)));
      }
      return;
    }
    FINISHING.put(dir, p.onExit().thenAccept(done -> {
      finish(tmp, done.exitValue());
      if (done.exitValue() != 0 && nanos.getAsLong() - at < FAILING_START_NANOS) {
        dumpingOff = true;
        log.info("worker class data: the worker failed {} ms after its launch; the next launches run without writing"
            + " an archive until one runs {} s", (nanos.getAsLong() - at) / 1_000_000, FAILING_START_NANOS / 1_000_000_000L);
      }
    }));
  }

  private void livedLongEnough(long launchedAt) {
    if (nanos.getAsLong() - launchedAt >= FAILING_START_NANOS) {
      dumpingOff = false;
    }
  }

  private void finish(Path tmp, int status) {
    try {
      if (status == 0 && Files.isRegularFile(tmp) && Files.size(tmp) > 0) {
        Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        log.info("worker class data: {} written ({} MB); later starts of the worker map its classes from it",
            archive, Files.size(archive) >> 20);
      } else {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("worker class data: cannot keep {} ({}); the next start tries again", tmp, e.toString());
    }
  }

  private void awaitFinishing() {
    CompletableFuture<Void> f = FINISHING.remove(dir);
    if (f == null) {
      return;
    }
    try {
      f.get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      // the previous worker is still alive (a launch beside it would fail on the binlog's lock anyway),
      // or the renaming failed: either way this launch goes on without waiting longer
    }
  }

  /** Archives and temporary files of other keys: another JDK, another build. */
  private void removeOthers() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "{worker-*.jsa,.worker-*.jsa.tmp}")) {
      for (Path p : ds) {
        if (!p.equals(archive)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  static String key(String javaHome, String vmVersion, String classPath) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update((javaHome + "\n" + vmVersion + "\n").getBytes(StandardCharsets.UTF_8));
      for (String e : classPath.split(java.io.File.pathSeparator)) {
        Path p = Path.of(e);
        long size = -1;
        long mtime = -1;
        try {
          size = Files.size(p);
          mtime = Files.getLastModifiedTime(p).toMillis();
        } catch (IOException | RuntimeException ignored) {
          // a missing entry: the key still names it
        }
        md.update((e + "\t" + size + "\t" + mtime + "\n").getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(md.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
