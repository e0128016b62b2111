package io.logtail.verify;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code logtail verify} over several nodes: after each node's {@link Verifier} ran in one snapshot
 * (each reconciles its own lines, row by row, with other nodes' rows taken as committed before its
 * log: which is what "first committed counts" means across nodes), this checks the whole database
 * against the sum of all nodes' logs:
 * <ul>
 *   <li>every node with rows in the database is among the nodes given (else its lines cannot be
 *       re-read, and the global figures cannot add up);</li>
 *   <li>{@code vote_tallies} equals the sum over the nodes of the votes each log counts;</li>
 *   <li>the rows ({@code votes}, {@code canvass_records}, {@code rejects}), the duplicate attempts and the
 *       {@code batches} counters of all nodes equal the sums of the logs' outcomes.</li>
 * </ul>
 */
public final class ClusterCheck {
  private static final String[] COUNTERS = {"lines", "votes", "duplicates", "retransmits", "canvass", "resends",
      "rejects", "skipped"};

  private ClusterCheck() {}

  /** Prints the cluster's report on {@code out}; returns {@link Verifier#AGREE} or {@link Verifier#DIFFER}. */
  public static int run(Connection c, List<Verifier.Summary> nodes, PrintWriter out) throws SQLException {
    List<String> diffs = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Set<String> given = new HashSet<>();
    long[] log = new long[8];
    Map<String, long[]> tallies = new TreeMap<>(); // ballot\tchoice -> {log, database}
    for (Verifier.Summary s : nodes) {
      given.add(s.node());
      for (int i = 0; i < 8; i++) log[i] += s.totals()[i];
      s.tallies().forEach((k, v) -> tallies.computeIfAbsent(k, x -> new long[2])[0] += v);
      if (!s.complete()) {
        diffs.add("node " + s.node() + ": some of its sources have no file among its --log: its lines cannot all be"
            + " re-read, so the cluster's sums cannot be checked (give every file, .gz included)");
      }
    }
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT n.name, count(b.batch_id),"
        + " coalesce(sum(b.lines), 0) FROM nodes n LEFT JOIN batches b USING (node_id) GROUP BY n.name ORDER BY n.name")) {
      while (rs.next()) {
        if (!given.contains(rs.getString(1)) && rs.getLong(2) > 0) {
          diffs.add("node " + rs.getString(1) + " committed " + rs.getLong(3) + " lines in " + rs.getLong(2)
              + " batches, but no --node-id " + rs.getString(1) + " --log ... was given: give every node's logs");
        }
      }
    }
    long[] db = new long[8];
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(sum(lines), 0),"
        + " coalesce(sum(votes), 0), coalesce(sum(duplicates), 0), coalesce(sum(retransmits), 0), coalesce(sum(canvass), 0),"
        + " coalesce(sum(resends), 0), coalesce(sum(rejects), 0), coalesce(sum(skipped), 0) FROM batches")) {
      rs.next();
      for (int i = 0; i < 8; i++) db[i] = rs.getLong(i + 1);
    }
    for (int i = 0; i < 8; i++) {
      if (db[i] != log[i]) {
        diffs.add(String.format(Locale.ROOT, "batches.%s over all nodes: database %d, logs %d (%+d)", COUNTERS[i], db[i],
            log[i], db[i] - log[i]));
      }
    }
    rows(c, "SELECT count(*) FROM votes", "votes rows", log[1], diffs);
    rows(c, "SELECT count(*) FROM canvass_records", "canvass_records rows", log[4], diffs);
    rows(c, "SELECT count(*) FROM rejects", "rejects rows", log[6], diffs);
    rows(c, "SELECT coalesce(sum(attempts), 0) FROM vote_duplicate_rows", "duplicate attempts", log[2], diffs);
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT ballot, choice, votes FROM vote_tallies")) {
      while (rs.next()) {
        tallies.computeIfAbsent(rs.getString(1) + "\t" + rs.getString(2), x -> new long[2])[1] += rs.getLong(3);
      }
    }
    long votes = 0;
    int tallyDiffs = 0;
    for (Map.Entry<String, long[]> e : tallies.entrySet()) {
      votes += e.getValue()[1];
      if (e.getValue()[0] != e.getValue()[1]) {
        if (tallyDiffs++ < 20) {
          diffs.add(String.format(Locale.ROOT, "vote_tallies %s: database %d, sum of the logs %d (%+d)",
              e.getKey().replace('\t', '/'), e.getValue()[1], e.getValue()[0], e.getValue()[1] - e.getValue()[0]));
        }
      }
    }
    if (tallyDiffs > 20) diffs.add("... and " + (tallyDiffs - 20) + " more tally differences");
    out.printf(Locale.ROOT, "%nCLUSTER: %d node(s), %,d lines in their logs (committed part), %,d votes in %d tallies%n",
        nodes.size(), log[0], votes, tallies.size());
    for (String n : notes) out.println("note: " + n);
    if (diffs.isEmpty()) {
      out.println("CLUSTER AGREE: vote_tallies, the rows and the batches of all nodes equal the sums over the nodes' logs");
      out.flush();
      return Verifier.AGREE;
    }
    out.printf(Locale.ROOT, "CLUSTER DIFFERENCES (%d):%n", diffs.size());
    for (String d : diffs) out.println("  " + d);
    out.flush();
    return Verifier.DIFFER;
  }

  private static void rows(Connection c, String sql, String what, long log, List<String> diffs) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      long db = rs.getLong(1);
      if (db != log) {
        diffs.add(String.format(Locale.ROOT, "%s over all nodes: database %d, logs %d (%+d)", what, db, log, db - log));
      }
    }
  }
}
