package io.logtail.worker;

import io.logtail.flush.Flusher;
import io.logtail.tail.SourceStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's status as a JSON file, rewritten every 500 ms (written to a temporary file next to it,
 * then renamed over it, so a reader never sees half a document). The admin process reads it for its
 * status port, and its {@code written_at} is the heartbeat: a worker that stops rewriting it is hung.
 * No fsync: the file only matters while this process lives.
 *
 * <p>Fields: {@code pid}, {@code written_at} (epoch ms), {@code state} ({@code starting},
 * {@code running}, {@code stopping}, {@code failed}), {@code sources}, {@code events}, {@code flush},
 * {@code binlog}, {@code database}; see docs/operations.md, "Status port".
 */
public final class StatusFile implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StatusFile.class);
  public static final long INTERVAL_MS = 500;

  private final Path path;
  private final Path tmp;
  private final Supplier<Worker> worker;
  private final Supplier<String> state;
  private final Thread thread;
  private volatile boolean closed;

  public StatusFile(Path path, Supplier<Worker> worker, Supplier<String> state) {
    this.path = path.toAbsolutePath();
    this.tmp = this.path.resolveSibling(this.path.getFileName() + ".tmp");
    this.worker = worker;
    this.state = state;
    this.thread = new Thread(this::loop, "logtail-status-file");
    this.thread.setDaemon(true);
  }

  public StatusFile start() {
    writeNow();
    thread.start();
    return this;
  }

  private void loop() {
    while (!closed) {
      try {
        Thread.sleep(INTERVAL_MS);
      } catch (InterruptedException e) {
        return;
      }
      writeNow();
    }
  }

  /** Writes the document now; failures are logged (once per distinct message) and retried next time. */
  public synchronized void writeNow() {
    try {
      Files.createDirectories(path.getParent());
      Files.writeString(tmp, render(worker.get(), state.get(), System.currentTimeMillis()), StandardCharsets.UTF_8);
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot write status file {}: {}", path, e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }

  /** The JSON document for {@code w} (which may be null or not started yet). */
  static String render(Worker w, String state, long nowMillis) {
    StringBuilder b = new StringBuilder(1024);
    b.append("{\"pid\":").append(ProcessHandle.current().pid());
    b.append(",\"written_at\":").append(nowMillis);
    b.append(",\"state\":");
    str(b, state);
    b.append(",\"sources\":[");
    List<SourceStatus> snap = w == null || w.tailer() == null ? List.of() : w.tailer().snapshot();
    WorkerStats st = w == null ? null : w.stats();
    Map<Long, Long> resume = w == null ? Map.of() : w.resumeOffsets();
    boolean first = true;
    for (SourceStatus s : snap) {
      if (!first) {
        b.append(',');
      }
      first = false;
      long committed = 0;
      if (s.sourceId() != null) {
        long fp = Long.parseUnsignedLong(s.sourceId(), 16);
        committed = Math.max(resume.getOrDefault(fp, 0L),
            st == null ? 0L : st.committedEnd.getOrDefault(fp, 0L));
      }
      b.append("{\"path\":");
      str(b, s.path().toString());
      b.append(",\"file_id\":");
      str(b, s.sourceId());
      b.append(",\"state\":");
      str(b, s.state().name().toLowerCase(Locale.ROOT));
      b.append(",\"size\":").append(s.size());
      b.append(",\"read_offset\":").append(s.readOffset());
      b.append(",\"committed_offset\":").append(committed);
      b.append(",\"lag_bytes\":").append(Math.max(0, s.size() - committed));
      b.append(",\"truncations\":").append(s.truncations());
      b.append(",\"bytes_at_risk\":").append(s.bytesAtRisk());
      b.append('}');
    }
    b.append(']');
    if (st != null) {
      b.append(",\"events\":{\"lines\":").append(st.lines.get())
          .append(",\"committed\":").append(st.committedEvents())
          .append(",\"rejected\":").append(st.rejected.get())
          .append(",\"skipped\":").append(st.skipped.get())
          .append(",\"retransmits\":").append(st.retransmits.get())
          .append(",\"duplicates\":").append(st.duplicates.get()).append('}');
      long commitMicros = st.lastCommitMicros.get();
      b.append(",\"flush\":{\"batches\":").append(st.batches.get())
          .append(",\"last_commit_at\":").append(commitMicros == 0 ? "null" : Long.toString(commitMicros / 1000))
          .append(",\"last_batch_ms\":").append(String.format(Locale.ROOT, "%.3f", st.lastBatchNanos.get() / 1e6))
          .append(",\"rows_per_s\":").append(String.format(Locale.ROOT, "%.1f", st.rowsPerSecond())).append('}');
    }
    BinlogWriter bl = w == null ? null : w.binlog();
    if (bl != null) {
      b.append(",\"binlog\":{\"last_batch\":").append(bl.lastBatchId())
          .append(",\"synced_at\":").append(bl.syncedAtMillis() == 0 ? "null" : Long.toString(bl.syncedAtMillis()))
          .append('}');
    }
    Flusher f = w == null ? null : w.flusher();
    if (f != null) {
      b.append(",\"database\":{\"reachable\":").append(f.databaseReachable()).append(",\"last_error\":");
      str(b, f.lastError());
      b.append('}');
    }
    if (w != null && w.failure() != null) {
      b.append(",\"failure\":");
      str(b, w.failure().toString());
    }
    return b.append("}\n").toString();
  }

  /** Appends {@code s} as a JSON string (RFC 8259 escaping), or {@code null}. (The publisher's files use it too.) */
  public static void str(StringBuilder b, String s) {
    if (s == null) {
      b.append("null");
      return;
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
