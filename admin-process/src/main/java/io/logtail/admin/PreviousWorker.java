package io.logtail.admin;

import io.logtail.binlog.Binlog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before the admin starts a worker: is the data directory's binlog still held by another process (the
 * binlog lock, {@code <data-dir>/binlog/binlog.lock}, which the one writing worker holds and which the
 * kernel releases when it dies)? That is the worker of an earlier admin that died by SIGKILL and has not
 * stopped yet (it stops by itself when its admin is gone: {@code ParentWatch}), or {@code logtail
 * recover} or another {@code logtail run} on the same data directory.
 *
 * <p>The admin does not start its worker while the lock is held (a second worker would only fail on the
 * lock and count as a crash). An orphaned worker (a {@code WorkerMain} JVM whose parent is not a live
 * {@code logtail} admin) that still holds the lock after {@link #ORPHAN_GRACE} is sent SIGTERM, and
 * SIGKILL after a further {@link AdminProcess#STOP_TIMEOUT}. Any other holder is waited for, never
 * signalled; the wait is shown in {@code last_error}.
 */
final class PreviousWorker {
  private static final Logger log = LoggerFactory.getLogger(PreviousWorker.class);
  static final Duration ORPHAN_GRACE = Duration.ofSeconds(10);
  private static final Pattern PID = Pattern.compile("pid (\\d+)");

  private final Path lockFile;
  private final long graceMs;
  private final long killAfterMs;
  private long waitingSince = -1;
  private long termAt = -1;
  private long heldBy = -1;

  PreviousWorker(Path binlogDir) {
    this(binlogDir, ORPHAN_GRACE, AdminProcess.STOP_TIMEOUT);
  }

  PreviousWorker(Path binlogDir, Duration grace, Duration killAfter) {
    this.lockFile = binlogDir.resolve(Binlog.LOCK_FILE);
    this.graceMs = grace.toMillis();
    this.killAfterMs = killAfter.toMillis();
  }

  /** Null when a worker may start now; else what the admin is waiting for (for last_error). */
  String waitingFor(long now) {
    String holder = holder();
    if (holder == null) {
      if (waitingSince >= 0) {
        log.info("admin: the binlog is free again after {} ms", now - waitingSince);
      }
      waitingSince = -1;
      termAt = -1;
      heldBy = -1;
      return null;
    }
    Matcher m = PID.matcher(holder);
    long pid = m.find() ? Long.parseLong(m.group(1)) : -1;
    if (waitingSince < 0 || pid != heldBy) {
      waitingSince = now;
      termAt = -1;
      heldBy = pid;
      log.warn("admin: the binlog {} is held by another process ({}): not starting a worker until it is free",
          lockFile, holder);
    }
    Optional<ProcessHandle> ph = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
    boolean orphan = ph.isPresent() && isWorker(ph.get()) && !hasLiveAdminParent(ph.get());
    if (orphan && termAt < 0 && now - waitingSince >= graceMs) {
      log.warn("admin: orphaned worker pid {} (its admin is gone) still holds the binlog after {} ms: SIGTERM",
          pid, graceMs);
      ph.get().destroy();
      termAt = now;
    } else if (orphan && termAt >= 0 && now - termAt >= killAfterMs) {
      log.error("admin: orphaned worker pid {} did not stop within {} ms of SIGTERM: SIGKILL", pid, killAfterMs);
      ph.get().destroyForcibly();
      termAt = now;   // and again after another timeout, should SIGKILL not have been enough yet
    }
    return "waiting for " + (orphan ? "the orphaned worker" : "the process") + " holding the binlog to stop ("
        + holder + ", for " + (now - waitingSince) / 1000 + " s)";
  }

  /** The lock file's text ("pid N since T") when another process holds the lock, else null. */
  private String holder() {
    if (!Files.exists(lockFile)) {
      return null;
    }
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock != null) {
        lock.release();
        return null;
      }
      ByteBuffer buf = ByteBuffer.allocate(200);
      int n = ch.read(buf, 0);
      String s = n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8).trim();
      return s.isEmpty() ? "holder unknown" : s;
    } catch (IOException e) {
      return null;   // cannot look: the worker will tell (it fails on a held lock)
    }
  }

  private static boolean isWorker(ProcessHandle p) {
    return commandLine(p).contains("io.logtail.worker.WorkerMain");
  }

  private static boolean hasLiveAdminParent(ProcessHandle p) {
    return p.parent().filter(ProcessHandle::isAlive).map(pp -> commandLine(pp).contains("io.logtail.cli.LogtailCli"))
        .orElse(false);
  }

  /**
   * A process's whole command line: from {@code /proc/<pid>/cmdline} on Linux, since
   * {@code ProcessHandle.Info.commandLine()} is cut at 4096 characters, before the main class of a JVM
   * with a long class path.
   */
  static String commandLine(ProcessHandle p) {
    try {
      byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
      return new String(b, StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException | RuntimeException e) {
      return p.info().commandLine().orElse("");
    }
  }
}
