package io.logtail.worker;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogEntry;
import io.logtail.binlog.BinlogFilter;
import io.logtail.binlog.BinlogRecord;
import io.logtail.binlog.Counts;
import io.logtail.binlog.Range;
import io.logtail.binlog.RecordKind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles the binlog with the database at start.
 *
 * <ul>
 *   <li>Database ahead (the worker died between commit and append, or the binlog was lost): the
 *       missing records are appended from the database's {@code batches} and {@code batch_ranges}
 *       as {@code HEAL} records.</li>
 *   <li>Binlog ahead (the database was restored from an older backup): a {@code REWIND} record notes
 *       it; the ranges the database lacks are listed, and the directories of their files (as the
 *       binlog recorded them) are added to what the tailer follows, so that renamed or gzipped files
 *       are found by fingerprint and re-read from the database's offsets.</li>
 * </ul>
 * The tailer always resumes at the database's committed offsets, so the re-reading itself needs no
 * special path: the database is the truth of what it holds.
 */
public final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  /** A stream whose committed offset in the database is behind what the binlog says was committed. */
  public record Missing(long fingerprint, String path, long databaseOffset, long binlogEnd) {
    public long bytes() {
      return binlogEnd - databaseOffset;
    }
  }

  public record Report(long databaseLastBatch, long binlogLastBatch, int healed, boolean rewound,
      List<Missing> missing, List<String> extraLogs, long nextBatchId) {
    public String summary() {
      if (healed > 0) {
        return "binlog healed with " + healed + " batches from the database (it was behind: last "
            + binlogLastBatch + ", database " + databaseLastBatch + ")";
      }
      if (rewound) {
        long bytes = missing.stream().mapToLong(Missing::bytes).sum();
        return "database is behind the binlog (database batch " + databaseLastBatch + ", binlog "
            + binlogLastBatch + "): re-reading " + bytes + " bytes of " + missing.size() + " streams";
      }
      return "binlog and database agree at batch " + databaseLastBatch;
    }
  }

  private Recovery() {}

  static Report reconcile(Connection c, int nodeId, String node, BinlogWriter writer) throws SQLException {
    Binlog binlog = writer.binlog();
    long dbLast = queryLong(c, "SELECT coalesce(max(batch_id), 0) FROM batches WHERE node_id = ?", nodeId);
    Optional<BinlogRecord> last = binlog.last();
    // after a REWIND the database legitimately holds fewer batches than ids were used: compare with
    // what the database had then, but never reuse an id the binlog already holds
    long binLast = last.map(r -> r.kind() == RecordKind.REWIND ? r.rewindToBatchId() : r.batchId()).orElse(0L);
    long idFloor = last.map(BinlogRecord::batchId).orElse(0L);

    if (binLast < dbLast) {
      int healed = heal(c, nodeId, node, writer, binLast);
      writer.sync();
      if (last.isEmpty()) {
        log.warn("node {}: the binlog {} was empty (new, or deleted) while the database's last batch is {}; rebuilt it:"
            + " appended {} HEAL records from the database", node, binlog.dir(), dbLast, healed);
      } else {
        log.warn("node {}: binlog was behind the database (binlog batch {}, database batch {}); appended {} HEAL records",
            node, binLast, dbLast, healed);
      }
      return new Report(dbLast, binLast, healed, false, List.of(), List.of(), dbLast + 1);
    }
    if (binLast > dbLast) {
      Map<Long, Long> dbOffsets = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT fingerprint, committed_offset FROM sources WHERE node_id = ?")) {
        ps.setInt(1, nodeId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            dbOffsets.put(rs.getLong(1), rs.getLong(2));
          }
        }
      }
      Map<Long, Range> ends = new LinkedHashMap<>();
      try (Binlog.BinlogCursor cur = binlog.read(BinlogFilter.all().batches(dbLast + 1, Long.MAX_VALUE))) {
        while (cur.hasNext()) {
          BinlogEntry e = cur.next();
          if (e.record().kind() == RecordKind.REWIND) {
            continue;
          }
          for (Range r : e.record().ranges()) {
            ends.merge(r.fingerprint(), r, (a, b) -> b.endOffset() >= a.endOffset() ? b : a);
          }
        }
      }
      List<Missing> missing = new ArrayList<>();
      Set<String> extra = new LinkedHashSet<>();
      for (Range r : ends.values()) {
        long have = dbOffsets.getOrDefault(r.fingerprint(), 0L);
        if (have < r.endOffset()) {
          missing.add(new Missing(r.fingerprint(), r.path(), have, r.endOffset()));
          extra.add(siblingsGlob(r.path()));
        }
      }
      writer.append(BinlogRecord.rewind(binLast, node, System.currentTimeMillis() * 1000L, binLast, dbLast));
      writer.sync();
      for (Missing m : missing) {
        log.warn("node {}: database restored behind the binlog: stream {} ({}) committed to {} in the database, "
            + "{} in the binlog; re-reading {} bytes", node, String.format("%016x", m.fingerprint()), m.path(),
            m.databaseOffset(), m.binlogEnd(), m.bytes());
      }
      return new Report(dbLast, binLast, 0, true, missing, List.copyOf(extra), binLast + 1);
    }
    return new Report(dbLast, binLast, 0, false, List.of(), List.of(), Math.max(dbLast, idFloor) + 1);
  }

  /** The file's directory and every name that starts with its base name: rotated and gzipped copies. */
  static String siblingsGlob(String path) {
    Path p = Path.of(path);
    String base = p.getFileName().toString();
    int dot = base.indexOf(".log");
    String stem = dot > 0 ? base.substring(0, dot + 4) : base;
    Path dir = p.getParent() == null ? Path.of(".") : p.getParent();
    return dir.resolve(stem + "*").toString();
  }

  private static int heal(Connection c, int nodeId, String node, BinlogWriter writer, long after) throws SQLException {
    int n = 0;
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false); // a cursor needs a transaction
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT b.batch_id, (extract(epoch FROM b.committed_at) * 1000000)::bigint, b.lines, b.votes,
               b.canvass, b.rejects, b.skipped, b.duplicates, b.retransmits,
               s.fingerprint, s.device, s.inode, s.path, r.start_offset, r.end_offset
        FROM batches b
        JOIN batch_ranges r ON r.node_id = b.node_id AND r.batch_id = b.batch_id
        JOIN sources s ON s.source_id = r.source_id
        WHERE b.node_id = ? AND b.batch_id > ?
        ORDER BY b.batch_id, r.source_id""")) {
      ps.setFetchSize(1000);
      ps.setInt(1, nodeId);
      ps.setLong(2, after);
      try (ResultSet rs = ps.executeQuery()) {
        long cur = -1;
        long time = 0;
        Counts counts = null;
        List<Range> ranges = new ArrayList<>();
        while (rs.next()) {
          long id = rs.getLong(1);
          if (id != cur) {
            if (cur >= 0) {
              writer.append(BinlogRecord.heal(cur, node, time, ranges, counts));
              n++;
            }
            cur = id;
            time = rs.getLong(2);
            counts = new Counts(rs.getInt(3), rs.getInt(4), rs.getInt(5), rs.getInt(6), rs.getInt(7),
                rs.getInt(8), rs.getInt(9));
            ranges = new ArrayList<>();
          }
          ranges.add(new Range(rs.getLong(10), rs.getLong(11), rs.getLong(12), rs.getString(13),
              rs.getLong(14), rs.getLong(15)));
        }
        if (cur >= 0) {
          writer.append(BinlogRecord.heal(cur, node, time, ranges, counts));
          n++;
        }
      }
      c.commit();
    } finally {
      c.setAutoCommit(auto);
    }
    return n;
  }

  private static long queryLong(Connection c, String sql, int nodeId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, nodeId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
