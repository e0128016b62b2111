package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogEntry;
import io.logtail.binlog.BinlogFilter;
import io.logtail.binlog.Range;
import io.logtail.binlog.RecordKind;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import io.logtail.gen.LogGenerator;
import io.logtail.worker.DbAssert;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the binlog under a real worker (a process of its own, as the admin starts it) while a simulated nginx
 * writes and logrotate rotates: the binlog directory deleted while the worker is stopped, and while it runs; its
 * last record torn (the queue file cut in the middle of that record after a SIGKILL, as a crash of the machine
 * mid-append leaves it); its file system full during ingest (a tmpfs of its own). In each case the worker either
 * recovers by itself on its next start, or stops / refuses to start with a message that says what to do (asserted),
 * and after the fault is gone a last run ends exact: {@code logtail verify} agrees, the database equals the
 * generator's expectation, and the binlog holds every committed batch exactly once with the database's ranges.
 */
class BinlogFaultIT {
  static final String NODE = "binlog-fault";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  private Path binlogDir() {
    return dir.resolve("data").resolve("binlog");
  }

  @Test
  void binlogDeletedWhileTheWorkerIsStopped() throws Exception {
    try (Run run = new Run("deleted_stopped")) {
      Process w1 = run.startWorker();
      run.awaitBatches(5);
      run.stopCleanly(w1);
      long batches = run.batches();
      deleteTree(binlogDir());
      Process w2 = run.startWorker();
      run.awaitLog("the binlog " + binlogDir() + " was empty (new, or deleted) while the database's last batch is "
          + run.dbLastBatch() + "; rebuilt it: appended " + batches + " HEAL records");
      run.finish(w2);
    }
  }

  @Test
  void binlogDeletedWhileTheWorkerRuns() throws Exception {
    try (Run run = new Run("deleted_running")) {
      Process w1 = run.startWorker();
      run.awaitBatches(5);
      deleteTree(binlogDir());
      assertTrue(w1.waitFor(60, TimeUnit.SECONDS), "the worker stops by itself when its binlog is deleted");
      assertEquals(3, w1.exitValue(), "exit status of a failed worker");
      run.awaitLog("was deleted or replaced while this worker wrote to it");
      run.awaitLog("Start it again: it rebuilds the binlog's missing records from the database (HEAL)");
      Process w2 = run.startWorker();
      run.awaitLog("was empty (new, or deleted) while the database's last batch is");
      run.finish(w2);
    }
  }

  @Test
  void tornLastRecord() throws Exception {
    try (Run run = new Run("torn")) {
      Process w1 = run.startWorker();
      run.awaitBatches(5);
      w1.destroyForcibly();
      assertTrue(w1.waitFor(30, TimeUnit.SECONDS));
      long lastBatch = run.dbLastBatch();
      String cut = cutLastRecord(binlogDir());
      System.out.println("BinlogFaultIT.tornLastRecord: " + cut + "; database's last batch " + lastBatch);
      Process w2 = run.startWorker();
      run.awaitLog("do not decode; last good record is");
      run.awaitLog("HEAL records");
      run.finish(w2);
      assertEquals(1, run.corruptInBinlog, "the torn record stays in the binlog, skipped by its readers");
    }
  }

  /**
   * The binlog on a 96 MiB tmpfs; during ingest a filler takes all but 64 MiB (the binlog's reserve) of it. The
   * worker stops at its next append, a restart refuses with the same message while the disk is full, and once the
   * filler is gone the worker starts, heals the binlog from the database and ends exact.
   */
  @Test
  void binlogDiskFullDuringIngest() throws Exception {
    Files.createDirectories(binlogDir());
    mount(binlogDir(), "96m");
    try (Run run = new Run("disk_full")) {
      Process w1 = run.startWorker();
      run.awaitBatches(5);
      Path filler = binlogDir().resolve("filler");
      long usable = Files.getFileStore(binlogDir()).getUsableSpace();
      fill(filler, usable - (64L << 20) + (64 << 10));
      String message = "binlog disk full: ";
      String advice = "Free space on that file system (or move the binlog: docs/recovery.md), then start the worker"
          + " again";
      assertTrue(w1.waitFor(60, TimeUnit.SECONDS), "the worker stops at its next append");
      assertEquals(3, w1.exitValue(), "exit status of a failed worker");
      run.awaitLog(message);
      run.awaitLog(advice);
      long before = TortureSupport.count(run.workerLog, advice);
      Process w2 = run.startWorker();
      assertTrue(w2.waitFor(60, TimeUnit.SECONDS), "a worker does not start while the binlog's disk is full");
      assertEquals(3, w2.exitValue(), "exit status of a refusal");
      run.awaitLog("logtail worker: cannot start: " + message);
      assertTrue(TortureSupport.count(run.workerLog, advice) > before, "the refusal says what to do");
      Files.delete(filler);
      Process w3 = run.startWorker();
      run.awaitLog("HEAL records");
      run.finish(w3);
    } finally {
      umount(binlogDir());
    }
  }

  /** One test's database, nginx (4 000 lines/s, rotated every 15 000 lines) and worker log. */
  final class Run implements AutoCloseable {
    final String url;
    final Database db;
    final TortureSupport.Nginx nginx;
    final Path workerLog = dir.resolve("worker.log");
    final List<Process> started = new ArrayList<>();
    long corruptInBinlog;

    Run(String name) throws Exception {
      url = TestDatabase.createDatabase("binlog_fault_" + name);
      db = Database.builder(url).build();
      db.migrate();
      nginx = new TortureSupport.Nginx(dir.resolve("access.log"), new LogGenerator(name.hashCode(),
          new LogGenerator.Mix()), 4_000, 15_000);
    }

    Process startWorker() throws Exception {
      Process p = TortureSupport.startWorker(dir, url, NODE);
      started.add(p);
      return p;
    }

    long batches() {
      return DbAssert.query(db.dataSource(), "SELECT count(*) FROM batches");
    }

    long dbLastBatch() {
      return DbAssert.query(db.dataSource(), "SELECT coalesce(max(batch_id), 0) FROM batches");
    }

    void awaitBatches(long n) {
      long target = batches() + n;
      DbAssert.await(Duration.ofSeconds(90), n + " more batches committed", () -> batches() >= target);
    }

    void awaitLog(String text) throws Exception {
      AdminTestSupport.await(Duration.ofSeconds(60), "the worker log to say: " + text,
          () -> TortureSupport.count(workerLog, text) > 0, () -> tail(workerLog));
    }

    void stopCleanly(Process p) throws InterruptedException {
      p.destroy();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "worker stops on SIGTERM");
      assertEquals(0, p.exitValue(), "clean exit after SIGTERM");
    }

    /** Stops nginx, lets the worker commit everything, stops it, and checks the database, verify and the binlog. */
    void finish(Process last) throws Exception {
      awaitBatches(3);   // the worker commits again after the fault
      // the fault must be healed across a rotation too: on a fast machine the batches above can come
      // before the first one (every 15 000 lines), so keep writing until it happened
      DbAssert.await(Duration.ofMinutes(1), "the log rotated once", () -> nginx.renames >= 1);
      nginx.stop();
      long total = nginx.written();
      DbAssert.await(Duration.ofMinutes(3), "all " + total + " bytes committed",
          () -> DbAssert.query(db.dataSource(), "SELECT coalesce(sum(committed_offset),0) FROM sources") == total);
      stopCleanly(last);
      assertTrue(nginx.renames >= 1, "the log was rotated meanwhile");
      TortureSupport.Run v = TortureSupport.verify(url, dir.resolve("access.log*").toString(), NODE);
      assertEquals(0, v.exit(), v.out());
      assertTrue(v.out().contains("AGREE"), v.out());
      DbAssert.assertMatches(db.dataSource(), nginx.gen.expected());
      corruptInBinlog = assertBinlogHoldsEveryBatchOnce();
      System.out.printf("BinlogFaultIT: %d lines, %d renames, %d copytruncates, %d batches, %d workers started%n",
          nginx.lines, nginx.renames, nginx.copytruncates, batches(), started.size());
    }

    /** Every batch of the database once in the binlog (BATCH or HEAL), with the same ranges; returns the corrupt count. */
    long assertBinlogHoldsEveryBatchOnce() throws Exception {
      Map<Long, List<String>> fromDb = new TreeMap<>();
      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement("""
              SELECT r.batch_id, s.fingerprint, r.start_offset, r.end_offset FROM batch_ranges r
              JOIN sources s ON s.source_id = r.source_id ORDER BY r.batch_id, s.fingerprint, r.start_offset""");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          fromDb.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
              .add(rs.getLong(2) + ":" + rs.getLong(3) + "-" + rs.getLong(4));
        }
      }
      Map<Long, List<String>> fromBinlog = new TreeMap<>();
      List<Long> twice = new ArrayList<>();
      long corrupt;
      try (Binlog b = Binlog.open(binlogDir(), BinlogConfig.defaults().withReadOnly(true));
          Binlog.BinlogCursor cur = b.read(BinlogFilter.all(), true)) {
        while (cur.hasNext()) {
          BinlogEntry e = cur.next();
          if (e.record().kind() == RecordKind.REWIND) {
            continue;
          }
          List<String> ranges = e.record().ranges().stream()
              .sorted(Comparator.comparingLong(Range::fingerprint).thenComparingLong(Range::startOffset))
              .map(r -> r.fingerprint() + ":" + r.startOffset() + "-" + r.endOffset()).toList();
          if (fromBinlog.put(e.record().batchId(), ranges) != null) {
            twice.add(e.record().batchId());
          }
        }
        corrupt = cur.corruptSkipped();
      }
      assertEquals(List.of(), twice, "batches twice in the binlog");
      assertEquals(fromDb.keySet(), fromBinlog.keySet(), "the binlog's batches are the database's");
      assertEquals(fromDb, fromBinlog, "the binlog's ranges are the database's");
      assertFalse(fromDb.isEmpty());
      return corrupt;
    }

    @Override
    public void close() throws Exception {
      for (Process p : started) {
        if (p.isAlive()) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      }
      nginx.close();
      db.close();
    }
  }

  /**
   * Cuts the newest queue file in the middle of its last document, as a crash of the machine leaves a record whose
   * header reached the disk but not all of its bytes (Chronicle writes the header's length last, so a crash of the
   * process alone never shows a torn record).
   */
  static String cutLastRecord(Path binlog) throws IOException {
    Path file;
    try (Stream<Path> s = Files.list(binlog)) {
      file = s.filter(p -> p.getFileName().toString().endsWith(".cq4")).max(Comparator.naturalOrder()).orElseThrow();
    }
    long position;
    long length;
    try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(binlog).readOnly(true).build();
        ExcerptTailer t = q.createTailer()) {
      t.direction(TailerDirection.BACKWARD).toEnd();
      try (DocumentContext dc = t.readingDocument()) {
        assertTrue(dc.isPresent(), "a last document in " + binlog);
        position = dc.wire().bytes().readPosition();
        length = dc.wire().bytes().readRemaining();
      }
    }
    long cutAt = position + length / 2;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(cutAt);
    }
    return "cut " + file.getFileName() + " at " + cutAt + ", in its last document [" + position + ", "
        + (position + length) + ")";
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  static void fill(Path file, long bytes) throws IOException {
    byte[] block = new byte[1 << 20];
    try (OutputStream o = Files.newOutputStream(file)) {
      for (long left = bytes; left > 0; left -= block.length) {
        o.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  /** A tmpfs of its own at {@code at}; needs root (CI runs as root): a failure fails the test, it is not skipped. */
  static void mount(Path at, String size) throws Exception {
    run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString());
  }

  static void umount(Path at) throws Exception {
    run("umount", "-l", at.toString());
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
        String.join(" ", cmd) + " failed (this test mounts a tmpfs: it needs root): " + out);
  }

  static String tail(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "(no " + file + ")";
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
