package io.logtail.verify;

import io.logtail.event.CanvassEvent;
import io.logtail.event.EventSink;
import io.logtail.event.LineProcessor;
import io.logtail.event.RejectReason;
import io.logtail.event.VoteEvent;
import io.logtail.parse.LogFormat;
import io.logtail.tail.Fingerprint;
import io.logtail.tail.Source;
import io.logtail.tail.TailerConfig;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * {@code logtail verify}: re-reads the logs independently of the worker's state (no tailer, no binlog,
 * no batch) and reconciles them with the database.
 *
 * <p>Every file the globs match is read from its first byte (a {@code .gz} decompressed), identified
 * by the tailer's fingerprint, and mapped to this node's {@code sources} row of that fingerprint.
 * Streams are read oldest first ({@link io.logtail.tail.LogOrder}, as the tailer orders them), and each line's
 * outcome is computed with the documented rules (docs/beacons.md, docs/architecture.md): the parser
 * and decoder decide votes, canvass records, rejects and skipped traffic; the reference data
 * ({@code ballots}, {@code voter_roll}) decides unknown_ballot, unknown_choice, unknown_voter; the
 * first vote of a (ballot, voter) in log order counts, a later one with the counted vote's eid is a
 * retransmit, any other a duplicate; the first canvass record of an eid counts, later ones are
 * re-sends. Rows the log cannot account for (other nodes, streams whose files are gone) are taken as
 * committed before this node's log.
 *
 * <p>Then, below each source's committed offset: the per-line rows ({@code votes},
 * {@code canvass_records}, {@code rejects}) are merged with the lines by {@code (source_id,
 * line_offset)}, and differences reported as byte ranges of the file; the aggregates (tallies,
 * duplicate attempts, the batches' counters) are compared; and the committed offsets with the files'
 * ends. The database is read in one repeatable-read, read-only transaction.
 */
public final class Verifier {
  public static final int AGREE = 0;
  public static final int DIFFER = 1;
  public static final int CANNOT = 3;

  /** What to verify. */
  public static final class Options {
    public List<String> logs = new ArrayList<>();
    public String logFormat = "combined";
    public String node;
    public int maxLineBytes = 65536;
    public boolean allowLag;
    public int maxRanges = 10;
    /** Progress lines on stderr every second (when reading takes longer than that). */
    public boolean progress = true;
  }

  /** Thrown when a log cannot be read; the message says what to do. */
  public static final class CannotRead extends Exception {
    CannotRead(String message) {
      super(message);
    }
  }

  // line outcomes
  private static final int SKIPPED = 0;
  private static final int VOTE = 1;
  private static final int DUPLICATE = 2;
  private static final int RETRANSMIT = 3;
  private static final int CANVASS = 4;
  private static final int RESEND = 5;
  private static final int REJECT = 6;
  private static final String[] LABEL = {"skipped traffic", "counted vote", "duplicate vote",
      "retransmitted vote", "counted canvass record", "canvass re-send", "reject"};
  private static final int NO_REASON = 255;
  private static final RejectReason[] REASONS = RejectReason.values();

  private final Options o;
  private final PrintWriter out;
  private final PrintWriter err;
  private final LogFormat format;

  // one stream of the log
  private static final class Stream {
    long fingerprint;
    Path path;
    boolean gz;
    long mtime;
    long diskSize;
    final List<Path> alsoAt = new ArrayList<>();
    // database
    int sourceId = -1;
    long committed;
    // what the log says, below the committed offset (and all lines)
    long lines;
    long linesBeyond;
    long completeEnd;
    long partialBytes;
    final long[] outcomes = new long[REJECT + 1];
    final long[] rejects = new long[REASONS.length];
    boolean committedMidLine;
    DbRows rows;
  }

  /** This node's per-line rows of one source. */
  private static final class DbRows {
    final LongList votes = new LongList();
    final LongList canvass = new LongList();
    final LongList rejects = new LongList(); // offset << 8 | reason code
  }

  /** Coalesced byte ranges of one kind of difference in one source. */
  private final class Ranges {
    final String title;
    final List<long[]> shown = new ArrayList<>();
    long openStart = -1;
    long openEnd = -1;
    long lines;
    long ranges;

    Ranges(String title) {
      this.title = title;
    }

    void add(long start, long end) {
      lines++;
      if (openEnd == start) {
        openEnd = end;
        return;
      }
      close();
      openStart = start;
      openEnd = end;
    }

    void close() {
      if (openStart < 0) return;
      ranges++;
      if (shown.size() < o.maxRanges) shown.add(new long[] {openStart, openEnd});
      openStart = -1;
      openEnd = -1;
    }
  }

  private final Map<String, Ranges> rangeDiffs = new LinkedHashMap<>();
  private final List<String> diffs = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  // reference data
  private Map<String, Set<String>> ballots; // null: not loaded
  private Set<String> rollScopes; // null: no roll
  private final Map<String, VoteTable> roll = new HashMap<>();
  private final Map<String, Integer> ballotIds = new HashMap<>();
  private final Map<Integer, String> ballotNames = new HashMap<>();
  private int nextSyntheticBallot = -1;

  // rules state
  private VoteTable votes;
  private HashSet128 canvassEids;
  private final Map<String, Map<String, long[]>> tallies = new TreeMap<>();
  private long externalVotes;
  private long externalCanvass;

  // progress
  private long totalDiskBytes;
  private long diskBytesRead;
  private long linesRead;
  private long startNanos;
  private long lastProgress;

  public Verifier(Options o, PrintWriter out, PrintWriter err) {
    this.o = o;
    this.out = out;
    this.err = err;
    this.format = LogFormat.compile(o.logFormat.equals("combined") ? LogFormat.COMBINED_TEXT : o.logFormat);
  }

  /** The node this verifier checks. */
  public String node() {
    return o.node;
  }

  /** Runs the verification; returns {@link #AGREE} or {@link #DIFFER} after printing the report. */
  public int run(Connection c) throws SQLException, IOException, CannotRead {
    readOnlySnapshot(c);
    try {
      return runInTransaction(c);
    } finally {
      c.rollback();
    }
  }

  /** Puts {@code c} in one repeatable-read, read-only transaction (roll it back when done). */
  public static void readOnlySnapshot(Connection c) throws SQLException {
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
    c.setReadOnly(true);
  }

  /**
   * Runs the verification in the caller's transaction (see {@link #readOnlySnapshot}): several nodes'
   * verifiers then see one snapshot, and {@link ClusterCheck} compares their {@link #summary()} sums
   * with the whole database.
   */
  public int runInTransaction(Connection c) throws SQLException, IOException, CannotRead {
    startNanos = System.nanoTime();
    lastProgress = startNanos;
    List<Stream> streams = discover();
    return verify(c, streams);
  }

  /**
   * What this node's logs say, below the committed offsets: the counters in the order of
   * {@code batches} (lines, votes, duplicates, retransmits, canvass, resends, rejects, skipped), and the
   * votes the log counts per "ballot\tchoice" (this log's lines only, not other nodes' rows); {@code
   * complete} is false when some of the node's sources have no file among its logs.
   */
  public record Summary(String node, long[] totals, Map<String, Long> tallies, boolean complete) {}

  private Summary summary;

  /** After a run: this node's part, for {@link ClusterCheck}. */
  public Summary summary() {
    return summary;
  }

  private final Map<String, Long> logTallies = new TreeMap<>();

  private int verify(Connection c, List<Stream> streams) throws SQLException, IOException, CannotRead {
    Integer nodeId = null;
    try (PreparedStatement ps = c.prepareStatement("SELECT node_id FROM nodes WHERE name = ?")) {
      ps.setString(1, o.node);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) nodeId = rs.getInt(1);
      }
    }
    // this node's sources, matched to the streams by fingerprint
    Map<Integer, String[]> unchecked = new TreeMap<>(); // source_id -> {fingerprint hex, path, committed}
    Map<Integer, Stream> bySource = new HashMap<>();
    if (nodeId != null) {
      Map<Long, Stream> byFp = new HashMap<>();
      for (Stream s : streams) byFp.put(s.fingerprint, s);
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT source_id, fingerprint, path, committed_offset FROM sources WHERE node_id = ? ORDER BY source_id")) {
        ps.setInt(1, nodeId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Stream s = byFp.get(rs.getLong(2));
            if (s != null) {
              s.sourceId = rs.getInt(1);
              s.committed = rs.getLong(4);
              s.rows = new DbRows();
              bySource.put(s.sourceId, s);
            } else {
              unchecked.put(rs.getInt(1), new String[] {String.format("%016x", rs.getLong(2)), rs.getString(3),
                  Long.toString(rs.getLong(4))});
            }
          }
        }
      }
    }
    boolean otherNodes = false;
    try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM nodes WHERE name <> ?)")) {
      ps.setString(1, o.node);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        otherNodes = rs.getBoolean(1);
      }
    }

    loadReference(c);
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ballot_id, ballot FROM ballot_keys")) {
      while (rs.next()) {
        ballotIds.put(rs.getString(2), rs.getInt(1));
        ballotNames.put(rs.getInt(1), rs.getString(2));
      }
    }

    // rows: this node's rows of checked sources per line; all others are taken as committed before
    long estimate = 0;
    for (Stream s : streams) estimate += s.diskSize / 400;
    votes = new VoteTable((int) Math.min(1 << 26, Math.max(1024, estimate)));
    canvassEids = new HashSet128((int) Math.min(1 << 26, Math.max(1024, estimate)));
    Map<Integer, long[]> uncheckedRows = new TreeMap<>(); // source_id -> votes, canvass, rejects
    int node = nodeId == null ? -1 : nodeId;
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT v.node_id, v.source_id, v.line_offset, v.ballot_id, v.voter, v.eid, v.choice FROM votes v")) {
      ps.setFetchSize(20_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int n = rs.getInt(1);
          int src = rs.getInt(2);
          Stream s = n == node ? bySource.get(src) : null;
          if (s != null) {
            s.rows.votes.add(rs.getLong(3));
            continue;
          }
          if (n == node) uncheckedRows.computeIfAbsent(src, k -> new long[3])[0]++;
          int b = rs.getInt(4);
          byte[] voter = rs.getBytes(5);
          if (voter == null || voter.length != 32) continue;
          votes.put(b, voter, eidHash(rs.getString(6)));
          String ballot = ballotNames.get(b);
          if (ballot != null) tally(ballot, rs.getString(7));
          externalVotes++;
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT node_id, source_id, line_offset, eid FROM canvass_records")) {
      ps.setFetchSize(20_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int n = rs.getInt(1);
          int src = rs.getInt(2);
          Stream s = n == node ? bySource.get(src) : null;
          if (s != null) {
            s.rows.canvass.add(rs.getLong(3));
            continue;
          }
          if (n == node) uncheckedRows.computeIfAbsent(src, k -> new long[3])[1]++;
          canvassEids.add(rs.getString(4));
          externalCanvass++;
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT source_id, line_offset, reason FROM rejects WHERE node_id = ?")) {
      ps.setFetchSize(20_000);
      ps.setInt(1, node);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int src = rs.getInt(1);
          Stream s = bySource.get(src);
          if (s == null) {
            uncheckedRows.computeIfAbsent(src, k -> new long[3])[2]++;
            continue;
          }
          s.rows.rejects.add(rs.getLong(2) << 8 | reasonCode(rs.getString(3)));
        }
      }
    }
    for (Stream s : bySource.values()) {
      s.rows.votes.sort();
      s.rows.canvass.sort();
      s.rows.rejects.sort();
    }

    // the log, in the tailer's order
    for (Stream s : streams) {
      read(s);
    }
    if (o.progress && System.nanoTime() - startNanos > 1_000_000_000L) progress(true);
    double seconds = (System.nanoTime() - startNanos) / 1e9;

    // committed offsets
    long lagBytes = 0;
    List<String> lag = new ArrayList<>();
    for (Stream s : streams) {
      if (s.sourceId < 0) {
        if (s.linesBeyond > 0) {
          lagBytes += s.completeEnd;
          lag.add(s.path + ": not in the database yet (no source of fingerprint " + hex(s.fingerprint)
              + " for node " + o.node + "): " + s.linesBeyond + " lines, bytes [0, " + s.completeEnd + ")");
        }
        continue;
      }
      if (s.committed > s.completeEnd) {
        diffs.add(s.path + " (source " + s.sourceId + "): committed offset " + s.committed
            + " is beyond the end of the file's complete lines " + s.completeEnd
            + ": the database holds bytes this file does not have (truncated or replaced?)");
      } else if (s.committedMidLine) {
        diffs.add(s.path + " (source " + s.sourceId + "): committed offset " + s.committed
            + " is inside a line, not at a line's end");
      } else if (s.committed < s.completeEnd) {
        lagBytes += s.completeEnd - s.committed;
        lag.add(s.path + " (source " + s.sourceId + "): committed offset " + s.committed + " of "
            + s.completeEnd + ": " + s.linesBeyond + " lines, bytes [" + s.committed + ", " + s.completeEnd
            + ") not committed yet");
      }
    }

    for (Ranges r : rangeDiffs.values()) r.close();

    // aggregates
    compareTallies(c);
    boolean exactDuplicates = !otherNodes && unchecked.isEmpty();
    compareDuplicates(c, exactDuplicates);
    long[] logTotals = new long[8];
    for (Stream s : streams) {
      if (s.sourceId < 0) continue;
      logTotals[0] += s.lines;
      logTotals[1] += s.outcomes[VOTE];
      logTotals[2] += s.outcomes[DUPLICATE];
      logTotals[3] += s.outcomes[RETRANSMIT];
      logTotals[4] += s.outcomes[CANVASS];
      logTotals[5] += s.outcomes[RESEND];
      logTotals[6] += s.outcomes[REJECT];
      logTotals[7] += s.outcomes[SKIPPED];
    }
    summary = new Summary(o.node, logTotals.clone(), Map.copyOf(logTallies), unchecked.isEmpty());
    if (unchecked.isEmpty()) {
      compareBatches(c, node, logTotals);
    } else {
      notes.add("batches counters not compared: " + unchecked.size()
          + " of this node's sources have no file among --log (their lines cannot be re-read)");
    }

    // report
    report(streams, unchecked, uncheckedRows, lag, lagBytes, seconds, nodeId == null);
    long rangeCount = rangeDiffs.size();
    boolean differ = !diffs.isEmpty() || rangeCount > 0;
    if (differ) return DIFFER;
    if (lagBytes > 0 && !o.allowLag) return DIFFER;
    return AGREE;
  }

  // ---------------------------------------------------------------------------------------------
  // discovery

  private List<Stream> discover() throws CannotRead, IOException {
    Set<Path> files = new TreeSet<>();
    for (String g : o.logs) {
      files.addAll(list(g));
    }
    Map<Long, Stream> byFp = new LinkedHashMap<>();
    byte[] first = new byte[Source.FINGERPRINT_MAX_BYTES];
    for (Path p : files) {
      if (!Files.isRegularFile(p)) continue;
      boolean gz = p.getFileName().toString().endsWith(".gz");
      long fp;
      int n;
      try (InputStream in = open(p, gz, null)) {
        n = in.readNBytes(first, 0, first.length);
      } catch (EOFException | ZipException e) {
        notes.add(p + ": not read: incomplete or corrupt gzip (" + e.getMessage() + ")");
        continue;
      } catch (IOException e) {
        throw new CannotRead("cannot read " + p + ": " + e.getMessage()
            + "; run verify as a user who can read the logs");
      }
      int len = Fingerprint.identifyingLength(first, n);
      if (len < 0) {
        if (n > 0) notes.add(p + ": not identifiable yet (no complete first line): nothing to check");
        continue;
      }
      fp = Fingerprint.xxHash64(first, 0, len);
      long size = Files.size(p);
      long mtime = Files.getLastModifiedTime(p).to(java.util.concurrent.TimeUnit.NANOSECONDS);
      Stream s = byFp.get(fp);
      if (s == null) {
        s = new Stream();
        s.fingerprint = fp;
        s.path = p;
        s.gz = gz;
        s.mtime = mtime;
        s.diskSize = size;
        byFp.put(fp, s);
      } else {
        // the same stream twice (a copy, or a .gz being written next to its plain file): read the plain
        // file, else the bigger one
        boolean better = (s.gz && !gz) || (s.gz == gz && size > s.diskSize);
        if (better) {
          s.alsoAt.add(s.path);
          s.path = p;
          s.gz = gz;
          s.mtime = mtime;
          s.diskSize = size;
        } else {
          s.alsoAt.add(p);
        }
      }
    }
    List<Stream> streams = new ArrayList<>(byFp.values());
    io.logtail.tail.LogOrder.sort(streams, s -> s.path, s -> s.mtime);
    for (Stream s : streams) totalDiskBytes += s.diskSize;
    return streams;
  }

  private static List<Path> list(String glob) throws CannotRead {
    Path p = Path.of(glob).toAbsolutePath().normalize();
    Path dir = p.getParent();
    String name = p.getFileName() == null ? "" : p.getFileName().toString();
    if (dir == null || name.isEmpty()) throw new CannotRead("--log " + glob + " must name a file or a glob of files");
    boolean globbed = name.chars().anyMatch(ch -> ch == '*' || ch == '?' || ch == '[' || ch == '{');
    List<Path> out = new ArrayList<>();
    if (!globbed) {
      if (Files.exists(p)) out.add(p);
      return out;
    }
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + name);
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path f : ds) {
        if (f.getFileName() != null && m.matches(f.getFileName())) out.add(f);
      }
    } catch (IOException e) {
      throw new CannotRead("cannot list " + dir + " for --log " + glob + ": " + e.getMessage()
          + "; check the path and that verify may read the directory");
    }
    return out;
  }

  private InputStream open(Path p, boolean gz, long[] counter) throws IOException {
    InputStream raw = Files.newInputStream(p);
    if (counter != null) {
      raw = new FilterInputStream(raw) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          if (n > 0) diskBytesRead += n;
          return n;
        }
      };
    }
    return gz ? new GZIPInputStream(raw, 1 << 16) : raw;
  }

  // ---------------------------------------------------------------------------------------------
  // reference data

  private void loadReference(Connection c) throws SQLException {
    if (exists(c, "ballots") && has(c, "SELECT EXISTS (SELECT 1 FROM ballots)")) {
      ballots = new HashMap<>();
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ballot, choices FROM ballots")) {
        while (rs.next()) {
          Array a = rs.getArray(2);
          ballots.put(rs.getString(1), new HashSet<>(Arrays.asList((String[]) a.getArray())));
        }
      }
    }
    if (exists(c, "voter_roll_scopes") && has(c, "SELECT EXISTS (SELECT 1 FROM voter_roll_scopes)")) {
      rollScopes = new HashSet<>();
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT scope FROM voter_roll_scopes")) {
        while (rs.next()) rollScopes.add(rs.getString(1));
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT scope, voter FROM voter_roll")) {
        ps.setFetchSize(50_000);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            byte[] v = rs.getBytes(2);
            if (v != null && v.length == 32) roll.computeIfAbsent(rs.getString(1), k -> new VoteTable(1024)).put(0, v, 0);
          }
        }
      }
    }
  }

  private static boolean exists(Connection c, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static boolean has(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // reading one stream

  private Stream cur;
  private int outcome;
  private int reason;

  private final EventSink sink = new EventSink() {
    @Override
    public void vote(Source source, long start, long end, VoteEvent v) {
      boolean inDb = end <= cur.committed && cur.sourceId >= 0;
      if (ballots != null) {
        Set<String> choices = ballots.get(v.ballot);
        if (choices == null) {
          rejected(RejectReason.UNKNOWN_BALLOT);
          return;
        }
        if (!choices.contains(v.choice)) {
          rejected(RejectReason.UNKNOWN_CHOICE);
          return;
        }
      }
      if (rollScopes != null && (rollScopes.contains("*") || rollScopes.contains(v.ballot))) {
        VoteTable all = roll.get("*");
        VoteTable mine = roll.get(v.ballot);
        boolean on = (all != null && all.get(0, v.voter) >= 0) || (mine != null && mine.get(0, v.voter) >= 0);
        if (!on) {
          rejected(RejectReason.UNKNOWN_VOTER);
          return;
        }
      }
      Integer id = ballotIds.get(v.ballot);
      if (id == null) {
        id = nextSyntheticBallot--;
        ballotIds.put(v.ballot, id);
      }
      long eh = eidHash(v.eid);
      int slot = votes.get(id, v.voter);
      if (slot < 0) {
        votes.put(id, v.voter, eh);
        outcome = VOTE;
        if (inDb) {
          tally(v.ballot, v.choice);
          logTallies.merge(v.ballot + "\t" + v.choice, 1L, Long::sum);
        }
      } else if (eh != VoteTable.NO_EID && eh == votes.eidHash(slot)) {
        outcome = RETRANSMIT;
      } else {
        outcome = DUPLICATE;
        if (inDb) votes.addAttempt(slot);
      }
    }

    @Override
    public void canvass(Source source, long start, long end, CanvassEvent r) {
      outcome = canvassEids.add(r.eid) ? CANVASS : RESEND;
    }

    @Override
    public void reject(Source source, long start, long end, RejectReason r, byte[] raw, int off, int len) {
      rejected(r);
    }

    @Override
    public void skipped(Source source, long start, long end) {
      outcome = SKIPPED;
    }
  };

  private void rejected(RejectReason r) {
    outcome = REJECT;
    reason = r.ordinal();
  }

  private void tally(String ballot, String choice) {
    tallies.computeIfAbsent(ballot, k -> new TreeMap<>()).computeIfAbsent(choice, k -> new long[2])[0]++;
  }

  private static long eidHash(String eid) {
    if (eid == null) return VoteTable.NO_EID;
    byte[] b = eid.getBytes(StandardCharsets.UTF_8);
    long h = Fingerprint.xxHash64(b, 0, b.length);
    return h == VoteTable.NO_EID ? 1 : h;
  }

  private static int reasonCode(String reason) {
    try {
      return RejectReason.fromCode(reason).ordinal();
    } catch (IllegalArgumentException e) {
      return NO_REASON;
    }
  }

  private static String reasonName(int code) {
    return code == NO_REASON ? "(unknown reason)" : REASONS[code].code();
  }

  // merge pointers into the current stream's rows
  private int pv;
  private int pc;
  private int pr;

  private void read(Stream s) throws IOException, CannotRead {
    cur = s;
    pv = 0;
    pc = 0;
    pr = 0;
    Source src = new Source(s.fingerprint, 0, 0, s.path, s.gz);
    LineProcessor lp = new LineProcessor(format, sink);
    byte[] buf = new byte[Math.max(1 << 20, 2 * o.maxLineBytes + 2)];
    byte[] head = new byte[TailerConfig.OVERSIZED_HEAD_BYTES];
    int headLen = 0;
    boolean skipping = false;
    long skipStart = 0;
    long base = 0; // content offset of buf[0]
    int have = 0;
    int scan = 0;
    long lastEnd = 0;
    try (InputStream in = open(s.path, s.gz, new long[0])) {
      while (true) {
        int n = in.read(buf, have, buf.length - have);
        if (n < 0) break;
        have += n;
        int ls = 0;
        for (int i = scan; i < have; i++) {
          if (buf[i] != '\n') continue;
          long start;
          long end = base + i + 1;
          if (skipping) {
            start = skipStart;
            skipping = false;
            outcome = REJECT;
            reason = RejectReason.LINE_TOO_LONG.ordinal();
            lp.oversizedLine(src, head, headLen, start, end);
          } else {
            start = base + ls;
            int len = i - ls;
            if (len > o.maxLineBytes) {
              int h = Math.min(len, head.length);
              System.arraycopy(buf, ls, head, 0, h);
              lp.oversizedLine(src, head, h, start, end);
            } else {
              lp.line(src, buf, ls, len, start, end);
            }
          }
          line(s, start, end);
          lastEnd = end;
          ls = i + 1;
        }
        int rest = have - ls;
        if (skipping) {
          base += have;
          have = 0;
        } else if (rest > o.maxLineBytes) {
          skipping = true;
          skipStart = base + ls;
          headLen = Math.min(rest, head.length);
          System.arraycopy(buf, ls, head, 0, headLen);
          base += have;
          have = 0;
        } else {
          System.arraycopy(buf, ls, buf, 0, rest);
          base += ls;
          have = rest;
        }
        scan = have;
        if (o.progress) progress(false);
      }
      s.completeEnd = lastEnd;
      s.partialBytes = base + have - lastEnd;
    } catch (EOFException | ZipException e) {
      throw new CannotRead("cannot read " + s.path + " to its end: incomplete or corrupt gzip (" + e.getMessage()
          + "); if it is being compressed right now, run verify again when logrotate has finished");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (IOException e) {
      throw new CannotRead("cannot read " + s.path + ": " + e.getMessage());
    }
    if (s.rows != null) {
      // rows past the last complete line
      DbRows r = s.rows;
      while (pv < r.votes.n) rowDiff(s, "votes row past the end of the file's complete lines", r.votes.a[pv++]);
      while (pc < r.canvass.n) rowDiff(s, "canvass_records row past the end of the file's complete lines", r.canvass.a[pc++]);
      while (pr < r.rejects.n) rowDiff(s, "rejects row past the end of the file's complete lines", r.rejects.a[pr++] >>> 8);
    }
  }

  private void line(Stream s, long start, long end) {
    linesRead++;
    boolean inDb = s.sourceId >= 0 && end <= s.committed;
    if (s.sourceId >= 0 && start < s.committed && end > s.committed) s.committedMidLine = true;
    if (!inDb) {
      s.linesBeyond++;
    } else {
      s.lines++;
      s.outcomes[outcome]++;
      if (outcome == REJECT) s.rejects[reason]++;
    }
    DbRows r = s.rows;
    if (r == null) return;
    // rows at offsets where no line starts
    while (pv < r.votes.n && r.votes.a[pv] < start) rowDiff(s, "votes row at an offset where no line starts", r.votes.a[pv++]);
    while (pc < r.canvass.n && r.canvass.a[pc] < start) rowDiff(s, "canvass_records row at an offset where no line starts", r.canvass.a[pc++]);
    while (pr < r.rejects.n && (r.rejects.a[pr] >>> 8) < start) {
      rowDiff(s, "rejects row at an offset where no line starts", r.rejects.a[pr++] >>> 8);
    }
    int nv = 0;
    while (pv < r.votes.n && r.votes.a[pv] == start) {
      nv++;
      pv++;
    }
    int nc = 0;
    while (pc < r.canvass.n && r.canvass.a[pc] == start) {
      nc++;
      pc++;
    }
    int nr = 0;
    int otherReason = -1;
    while (pr < r.rejects.n && (r.rejects.a[pr] >>> 8) == start) {
      int code = (int) (r.rejects.a[pr] & 0xFF);
      if (outcome != REJECT || code != reason) otherReason = code;
      nr++;
      pr++;
    }
    String what = outcome == REJECT ? "reject " + reasonName(reason) : LABEL[outcome];
    if (!inDb) {
      if (nv + nc + nr > 0) {
        lineDiff(s, "rows for lines beyond the committed offset " + s.committed + " (the offset and the rows disagree)", start, end);
      }
      return;
    }
    int ev = outcome == VOTE ? 1 : 0;
    int ec = outcome == CANVASS ? 1 : 0;
    int er = outcome == REJECT ? 1 : 0;
    if (nv < ev) lineDiff(s, "votes row missing (the line is a counted vote)", start, end);
    else if (nv > ev) lineDiff(s, ev == 1 ? "votes row doubled" : "votes row at a line that is a " + what, start, end);
    if (nc < ec) lineDiff(s, "canvass_records row missing (the line is a counted canvass record)", start, end);
    else if (nc > ec) lineDiff(s, ec == 1 ? "canvass_records row doubled" : "canvass_records row at a line that is a " + what, start, end);
    if (nr < er) lineDiff(s, "rejects row missing (the line is a reject " + reasonName(reason) + ")", start, end);
    else if (nr > er) lineDiff(s, er == 1 ? "rejects row doubled" : "rejects row at a line that is a " + what, start, end);
    if (er == 1 && nr >= 1 && otherReason >= 0) {
      lineDiff(s, "rejects reason differs: database " + reasonName(otherReason) + ", log " + reasonName(reason), start, end);
    }
  }

  private String where(Stream s) {
    return s.path + " (source " + s.sourceId + ")";
  }

  private void lineDiff(Stream s, String what, long start, long end) {
    rangeDiffs.computeIfAbsent(where(s) + ": " + what, Ranges::new).add(start, end);
  }

  private void rowDiff(Stream s, String what, long offset) {
    rangeDiffs.computeIfAbsent(where(s) + ": " + what, Ranges::new).add(offset, offset + 1);
  }

  private void progress(boolean last) {
    long now = System.nanoTime();
    if (!last && now - lastProgress < 1_000_000_000L) return;
    lastProgress = now;
    double secs = (now - startNanos) / 1e9;
    err.printf(Locale.ROOT, "verify: %s of %s read (%.0f%%), %,d lines, %,.0f lines/s%n", mb(diskBytesRead),
        mb(totalDiskBytes), totalDiskBytes == 0 ? 100.0 : 100.0 * diskBytesRead / totalDiskBytes, linesRead,
        linesRead / Math.max(secs, 1e-3));
    err.flush();
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }

  private static String hex(long fp) {
    return String.format("%016x", fp);
  }

  // ---------------------------------------------------------------------------------------------
  // aggregates

  private void compareTallies(Connection c) throws SQLException {
    Map<String, Map<String, long[]>> t = tallies;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies")) {
      while (rs.next()) {
        t.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).computeIfAbsent(rs.getString(2), k -> new long[2])[1] =
            rs.getLong(3);
      }
    }
    int shown = 0;
    int total = 0;
    for (Map.Entry<String, Map<String, long[]>> b : t.entrySet()) {
      for (Map.Entry<String, long[]> ch : b.getValue().entrySet()) {
        long[] v = ch.getValue();
        if (v[0] != v[1]) {
          total++;
          if (shown++ < o.maxRanges * 2) {
            diffs.add(String.format(Locale.ROOT, "tally %s / %s: database %d, log %d (%+d)", b.getKey(), ch.getKey(),
                v[1], v[0], v[1] - v[0]));
          }
        }
      }
    }
    if (total > shown) diffs.add("... and " + (total - shown) + " more tally differences");
  }

  private void compareDuplicates(Connection c, boolean exact) throws SQLException {
    if (!exists(c, "vote_duplicate_rows")) {
      notes.add("vote_duplicate_rows not found: duplicate attempts not compared");
      return;
    }
    int total = 0;
    int shown = 0;
    try (PreparedStatement ps = c.prepareStatement("SELECT ballot_id, voter, sum(attempts)::bigint FROM vote_duplicate_rows GROUP BY ballot_id, voter")) {
      ps.setFetchSize(20_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int b = rs.getInt(1);
          byte[] voter = rs.getBytes(2);
          long db = rs.getLong(3);
          int slot = voter != null && voter.length == 32 ? votes.get(b, voter) : -1;
          long log = slot >= 0 ? Math.max(0, votes.attempts(slot)) : 0;
          if (slot >= 0) votes.setAttempts(slot, -1);
          if (exact ? db != log : db < log) {
            total++;
            if (shown++ < o.maxRanges * 2) {
              diffs.add(String.format(Locale.ROOT, "duplicate attempts %s / voter %s: database %d, log %d",
                  ballotNames.getOrDefault(b, "#" + b), hexVoter(voter), db, log));
            }
          }
        }
      }
    }
    for (int i = 0; i < votes.capacity(); i++) {
      if (votes.used(i) && votes.attempts(i) > 0) {
        total++;
        if (shown++ < o.maxRanges * 2) {
          diffs.add(String.format(Locale.ROOT, "duplicate attempts %s / voter %s: database 0 (no row), log %d",
              ballotNames.getOrDefault(votes.ballotAt(i), "(new ballot)"), votes.voterHex(i), votes.attempts(i)));
        }
      }
    }
    if (total > shown) diffs.add("... and " + (total - shown) + " more duplicate-attempt differences");
    if (!exact) {
      notes.add("duplicate attempts compared as a lower bound: other nodes or streams without files add to them");
    }
  }

  private static String hexVoter(byte[] v) {
    if (v == null) return "null";
    StringBuilder sb = new StringBuilder();
    for (byte x : v) sb.append(String.format("%02x", x & 0xFF));
    return sb.toString();
  }

  private static final String[] COUNTERS = {"lines", "votes", "duplicates", "retransmits", "canvass", "resends", "rejects", "skipped"};

  private void compareBatches(Connection c, int node, long[] log) throws SQLException {
    long[] db = new long[8];
    try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(lines), 0), coalesce(sum(votes), 0), "
        + "coalesce(sum(duplicates), 0), coalesce(sum(retransmits), 0), coalesce(sum(canvass), 0), "
        + "coalesce(sum(resends), 0), coalesce(sum(rejects), 0), coalesce(sum(skipped), 0) FROM batches WHERE node_id = ?")) {
      ps.setInt(1, node);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        for (int i = 0; i < 8; i++) db[i] = rs.getLong(i + 1);
      }
    }
    for (int i = 0; i < 8; i++) {
      if (db[i] != log[i]) {
        diffs.add(String.format(Locale.ROOT, "batches.%s summed over this node's batches: database %d, log %d (%+d)",
            COUNTERS[i], db[i], log[i], db[i] - log[i]));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // report

  private void report(List<Stream> streams, Map<Integer, String[]> unchecked, Map<Integer, long[]> uncheckedRows,
      List<String> lag, long lagBytes, double seconds, boolean noNode) {
    long lines = 0;
    for (Stream s : streams) lines += s.lines + s.linesBeyond;
    out.printf(Locale.ROOT, "logtail verify: node %s, %d stream(s), %,d lines (%s) read in %.1f s (%,.0f lines/s)%n",
        o.node, streams.size(), lines, mb(totalDiskBytes), seconds, lines / Math.max(seconds, 1e-3));
    if (noNode) out.println("node " + o.node + " has no row in nodes: nothing of it is in the database");
    for (Stream s : streams) {
      out.printf(Locale.ROOT, "%n%s%s%n", s.path, s.alsoAt.isEmpty() ? "" : "  (same stream also at " + s.alsoAt + ")");
      out.printf(Locale.ROOT, "  fingerprint %s, %s%n", hex(s.fingerprint), s.sourceId < 0 ? "no source in the database"
          : "source " + s.sourceId + ", committed " + s.committed + " of " + s.completeEnd + " bytes"
          + (s.partialBytes > 0 ? " (+" + s.partialBytes + " bytes of an unfinished last line)" : ""));
      out.printf(Locale.ROOT, "  log (committed part): lines %d, votes %d, duplicates %d, retransmits %d, canvass %d, "
          + "resends %d, rejects %d, skipped %d%s%n", s.lines, s.outcomes[VOTE], s.outcomes[DUPLICATE],
          s.outcomes[RETRANSMIT], s.outcomes[CANVASS], s.outcomes[RESEND], s.outcomes[REJECT], s.outcomes[SKIPPED],
          s.linesBeyond > 0 ? "; " + s.linesBeyond + " lines not committed" : "");
      if (s.outcomes[REJECT] > 0) out.println("    rejects by reason: " + reasons(s.rejects));
      if (s.rows != null) {
        long[] dbReasons = new long[REASONS.length];
        long unknown = 0;
        for (int i = 0; i < s.rows.rejects.n; i++) {
          int code = (int) (s.rows.rejects.a[i] & 0xFF);
          if (code == NO_REASON) unknown++;
          else dbReasons[code]++;
        }
        out.printf(Locale.ROOT, "  database rows: votes %d, canvass_records %d, rejects %d%n", s.rows.votes.n,
            s.rows.canvass.n, s.rows.rejects.n);
        if (s.rows.rejects.n > 0) {
          out.println("    rejects by reason: " + reasons(dbReasons) + (unknown > 0 ? ", (unknown reason) " + unknown : ""));
        }
      }
    }
    for (Map.Entry<Integer, String[]> u : unchecked.entrySet()) {
      long[] r = uncheckedRows.getOrDefault(u.getKey(), new long[3]);
      notes.add("source " + u.getKey() + " (fingerprint " + u.getValue()[0] + ", last at " + u.getValue()[1]
          + ", committed " + u.getValue()[2] + "): no file among --log matches it (rotated away?); not checked; its "
          + r[0] + " votes and " + r[1] + " canvass rows taken as counted before this log");
    }
    for (Map.Entry<Integer, long[]> e : uncheckedRows.entrySet()) {
      if (!unchecked.containsKey(e.getKey())) {
        diffs.add("rows of node " + o.node + " name source " + e.getKey() + ", which is not one of its sources: votes "
            + e.getValue()[0] + ", canvass_records " + e.getValue()[1] + ", rejects " + e.getValue()[2]);
      }
    }
    if (externalVotes + externalCanvass > 0) {
      notes.add(String.format(Locale.ROOT, "%d votes and %d canvass records of other nodes or unchecked sources taken "
          + "as counted before this log", externalVotes, externalCanvass));
    }
    if (!notes.isEmpty()) {
      out.println();
      for (String n : notes) out.println("note: " + n);
    }
    if (!lag.isEmpty()) {
      out.printf(Locale.ROOT, "%nLAG: %,d bytes not committed yet%s%n", lagBytes,
          o.allowLag ? " (allowed by --allow-lag)" : " (a difference; run with --allow-lag while the worker is catching up)");
      for (String l : lag) out.println("  " + l);
    }
    long n = diffs.size() + rangeDiffs.size();
    if (n == 0) {
      out.printf(Locale.ROOT, "%nAGREE: the database holds every committed line of these logs exactly once%s%n",
          lag.isEmpty() ? "" : " (up to the committed offsets)");
      out.flush();
      return;
    }
    out.printf(Locale.ROOT, "%nDIFFERENCES (%d):%n", n);
    for (Ranges r : rangeDiffs.values()) {
      StringBuilder sb = new StringBuilder();
      for (long[] x : r.shown) {
        if (sb.length() > 0) sb.append(", ");
        sb.append('[').append(x[0]).append(", ").append(x[1]).append(')');
      }
      if (r.ranges > r.shown.size()) sb.append(", ... and ").append(r.ranges - r.shown.size()).append(" more ranges");
      out.printf(Locale.ROOT, "  %s: %d line(s)/row(s) in %d byte range(s): %s%n", r.title, r.lines, r.ranges, sb);
    }
    for (String d : diffs) out.println("  " + d);
    out.flush();
  }

  private static String reasons(long[] counts) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] == 0) continue;
      if (sb.length() > 0) sb.append(", ");
      sb.append(REASONS[i].code()).append(' ').append(counts[i]);
    }
    return sb.toString();
  }
}
