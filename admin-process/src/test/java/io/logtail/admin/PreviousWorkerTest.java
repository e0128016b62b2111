package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.binlog.Binlog;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PreviousWorker}: a free or missing binlog lock lets the admin start its worker; a held one makes
 * it wait; an orphaned worker holding it gets SIGTERM after the grace, SIGKILL after the stop timeout
 * (a stand-in process whose command line names {@code io.logtail.worker.WorkerMain} and whose parent is
 * no admin); any other holder is never signalled. Time is passed in, so nothing waits.
 */
class PreviousWorkerTest {
  @TempDir Path dir;

  @Test
  void freeOrMissingLockLetsTheWorkerStart() throws Exception {
    PreviousWorker pw = new PreviousWorker(dir.resolve("binlog"));
    assertNull(pw.waitingFor(0), "no binlog yet");
    Files.createDirectories(dir.resolve("binlog"));
    Files.writeString(dir.resolve("binlog").resolve(Binlog.LOCK_FILE), "pid 1 since then\n");
    assertNull(pw.waitingFor(0), "a lock file nobody holds (its writer died)");
  }

  @Test
  void orphanedWorkerGetsSigtermThenSigkillOtherHoldersNothing() throws Exception {
    // trap TERM: only SIGKILL ends it, so both steps are seen
    Process fake = new ProcessBuilder("bash", "-c", "trap '' TERM; while true; do sleep 0.2; done",
        "io.logtail.worker.WorkerMain").start();
    Process other = new ProcessBuilder("bash", "-c", "while true; do sleep 0.2; done", "something-else").start();
    try {
      Path binlog = Files.createDirectories(dir.resolve("binlog"));
      try (FileChannel ch = FileChannel.open(binlog.resolve(Binlog.LOCK_FILE), StandardOpenOption.CREATE,
          StandardOpenOption.READ, StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
        holder(ch, other.pid());
        PreviousWorker pw = new PreviousWorker(binlog, Duration.ofSeconds(10), Duration.ofSeconds(30));
        String w = pw.waitingFor(1_000);
        assertNotNull(w);
        assertTrue(w.contains("the process holding the binlog") && w.contains("pid " + other.pid()), w);
        assertNotNull(pw.waitingFor(1_000_000));
        assertTrue(other.isAlive(), "a holder that is no worker is never signalled");

        holder(ch, fake.pid());
        w = pw.waitingFor(2_000_000);
        assertTrue(w.contains("the orphaned worker"), w);
        assertNotNull(pw.waitingFor(2_009_000));
        assertFalse(fake.waitFor(300, TimeUnit.MILLISECONDS), "not signalled within the grace");
        pw.waitingFor(2_010_000);   // grace over: SIGTERM, which it ignores
        assertFalse(fake.waitFor(500, TimeUnit.MILLISECONDS), "still alive after SIGTERM (trapped)");
        pw.waitingFor(2_039_000);
        assertTrue(fake.isAlive(), "SIGKILL only after the stop timeout");
        pw.waitingFor(2_040_000);   // SIGKILL
        assertTrue(fake.waitFor(10, TimeUnit.SECONDS), "killed");
        assertEquals(137, fake.exitValue());
      }
      assertNull(new PreviousWorker(binlog).waitingFor(0), "lock released");
    } finally {
      fake.destroyForcibly();
      other.destroyForcibly();
    }
  }

  private static void holder(FileChannel ch, long pid) throws Exception {
    ch.truncate(0);
    ch.write(ByteBuffer.wrap(("pid " + pid + " since 2026-11-29T00:00:00Z\n").getBytes(StandardCharsets.UTF_8)), 0);
  }
}
