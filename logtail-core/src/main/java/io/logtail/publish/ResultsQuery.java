package io.logtail.publish;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Reads what the publisher publishes, in <b>one REPEATABLE READ, READ ONLY transaction</b>, so that
 * every file of a cycle reflects the same snapshot, and the batches it names ({@code batches}: the last
 * committed batch of each node) are exactly the batches whose rows it counted: a batch commits its rows
 * and its {@code batches} row in one transaction.
 *
 * <p>Queries, all cheap at 5,000 ballots (docs/benchmarks.md, "Publisher"):
 * <ul>
 *   <li>last batch per node: one index probe per node on {@code batches}' primary key;</li>
 *   <li>{@code vote_tallies} (a sum over {@code vote_tally_parts}: nodes × ballots × choices rows), the
 *       reference {@code ballots} (their choices appear with 0 votes), {@code voter_roll_scopes};</li>
 *   <li>duplicates: {@code vote_duplicates} summed per ballot;</li>
 *   <li>rejects per ballot and reason ({@link RejectsByBallot}): the ballot is taken from the raw line in
 *       SQL (the {@code rejects} table has no ballot column; docs/results.md, "Rejects per ballot", says
 *       why), each reject once, the new ones of each cycle;</li>
 *   <li>canvass cells, only when asked ({@code withCells}): {@code canvass_localities}, a view that
 *       scans all of {@code canvass_records}, so the publisher reads it on a longer interval.</li>
 * </ul>
 * A statement timeout bounds each query; a failure throws {@link SQLException} and the caller keeps
 * its last good files.
 */
public final class ResultsQuery {
  // not thread-safe: one publisher thread reads
  private static final String LAST_BATCHES = """
      SELECT n.name, b.batch_id, b.committed_at
      FROM nodes n
      CROSS JOIN LATERAL (SELECT batch_id, committed_at FROM batches x WHERE x.node_id = n.node_id
                          ORDER BY batch_id DESC LIMIT 1) b""";
  private static final String TALLIES = "SELECT ballot, choice, votes FROM vote_tallies";
  private static final String REFERENCE_BALLOTS = "SELECT ballot, choices FROM ballots";
  private static final String ROLL_SCOPES = "SELECT scope, voters FROM voter_roll_scopes";
  private static final String DUPLICATES =
      "SELECT ballot, count(*), sum(attempts)::bigint FROM vote_duplicates GROUP BY ballot";
  private static final String CELLS =
      "SELECT cell_lat, cell_lon, kind, issue, stance, records FROM canvass_localities";

  private final DataSource ds;
  private final Duration statementTimeout;
  private final RejectsByBallot rejects = new RejectsByBallot();

  public ResultsQuery(DataSource ds, Duration statementTimeout) {
    if (statementTimeout.toMillis() < 100) {
      throw new IllegalArgumentException("statement timeout must be at least 100 ms, was " + statementTimeout);
    }
    this.ds = ds;
    this.statementTimeout = statementTimeout;
  }

  /** One snapshot; cells only when {@code withCells}. */
  public ResultsSnapshot read(boolean withCells) throws SQLException {
    try (Connection c = ds.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        try (Statement st = c.createStatement()) {
          st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
          st.execute("SET LOCAL statement_timeout = " + statementTimeout.toMillis());
        }
        ResultsSnapshot s = readIn(c, withCells);
        c.commit();
        return s;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection is broken; the pool replaces it
        }
        throw e;
      } finally {
        try {
          c.setAutoCommit(auto);
        } catch (SQLException ignored) {
          // as above
        }
      }
    }
  }

  private ResultsSnapshot readIn(Connection c, boolean withCells) throws SQLException {
    SortedMap<String, Long> batches = new TreeMap<>();
    Instant updatedAt = null;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(LAST_BATCHES)) {
      while (rs.next()) {
        batches.put(rs.getString(1), rs.getLong(2));
        Timestamp t = rs.getTimestamp(3);
        if (t != null && (updatedAt == null || t.toInstant().isAfter(updatedAt))) {
          updatedAt = t.toInstant();
        }
      }
    }
    Map<String, Map<String, Long>> tallies = new TreeMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(TALLIES)) {
      while (rs.next()) {
        tallies.computeIfAbsent(rs.getString(1), k -> new HashMap<>()).merge(rs.getString(2), rs.getLong(3), Long::sum);
      }
    }
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(REFERENCE_BALLOTS)) {
      while (rs.next()) {
        Map<String, Long> m = tallies.computeIfAbsent(rs.getString(1), k -> new HashMap<>());
        Array a = rs.getArray(2);
        if (a != null) {
          for (Object o : (Object[]) a.getArray()) {
            m.putIfAbsent((String) o, 0L);
          }
        }
      }
    }
    Map<String, Long> scopes = new HashMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ROLL_SCOPES)) {
      while (rs.next()) {
        scopes.put(rs.getString(1), rs.getLong(2));
      }
    }
    Map<String, long[]> dups = new HashMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(DUPLICATES)) {
      while (rs.next()) {
        dups.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
      }
    }
    Map<String, SortedMap<String, Long>> rejects = this.rejects.read(c);
    List<ResultsSnapshot.Ballot> ballots = new ArrayList<>(tallies.size());
    Comparator<ResultsSnapshot.Choice> order = Comparator.comparingLong(ResultsSnapshot.Choice::votes).reversed()
        .thenComparing(ResultsSnapshot.Choice::choice);
    for (Map.Entry<String, Map<String, Long>> e : tallies.entrySet()) {
      String name = e.getKey();
      List<ResultsSnapshot.Choice> choices = new ArrayList<>();
      long votes = 0;
      for (Map.Entry<String, Long> ch : e.getValue().entrySet()) {
        choices.add(new ResultsSnapshot.Choice(ch.getKey(), ch.getValue()));
        votes += ch.getValue();
      }
      choices.sort(order);
      long[] d = dups.getOrDefault(name, new long[2]);
      // the roll of the ballot's own scope when one is loaded, else the whole election's ('*')
      Long roll = scopes.containsKey(name) ? scopes.get(name) : scopes.get("*");
      ballots.add(new ResultsSnapshot.Ballot(name, votes, choices, d[0], d[1],
          rejects.getOrDefault(name, new TreeMap<>()), roll));
    }
    return new ResultsSnapshot(batches, updatedAt, ballots, withCells ? cells(c) : null);
  }

  private static List<ResultsSnapshot.Cell> cells(Connection c) throws SQLException {
    record Acc(long[] counts, SortedMap<String, long[]> intentions) {}
    TreeMap<Long, Acc> cells = new TreeMap<>();
    try (PreparedStatement ps = c.prepareStatement(CELLS)) {
      ps.setFetchSize(10_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int lat = rs.getInt(1);
          int lon = rs.getInt(2);
          String kind = rs.getString(3);
          long n = rs.getLong(6);
          // sorted by (lat, lon): lon's sign bit flipped so that it sorts as unsigned below lat
          long key = ((long) lat << 32) | ((lon & 0xFFFFFFFFL) ^ 0x80000000L);
          Acc a = cells.computeIfAbsent(key, k -> new Acc(new long[3], new TreeMap<>()));
          a.counts[0] += n;
          switch (kind) {
            case "visit" -> a.counts[1] += n;
            case "followup" -> a.counts[2] += n;
            case "intention" -> {
              int s = ResultsSnapshot.STANCES.indexOf(rs.getString(5));
              if (s >= 0) {
                a.intentions.computeIfAbsent(rs.getString(4), k -> new long[3])[s] += n;
              }
            }
            default -> { }
          }
        }
      }
    }
    List<ResultsSnapshot.Cell> out = new ArrayList<>(cells.size());
    for (Map.Entry<Long, Acc> e : cells.entrySet()) {
      int lat = (int) (e.getKey() >> 32);
      int lon = (int) ((e.getKey() & 0xFFFFFFFFL) ^ 0x80000000L);
      long[] n = e.getValue().counts;
      out.add(new ResultsSnapshot.Cell(lat, lon, n[0], n[1], n[2], e.getValue().intentions));
    }
    return out;
  }
}
