package io.logtail.cli;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Every node of one database, from the view {@code cluster_status} (schema V3): what {@code logtail
 * status --cluster} shows. The database is the one place all nodes write to, so it is read here and
 * not the nodes' status ports (which an operator may not reach from one place).
 *
 * <p>Lag is the size each node last reported for its streams (every 2 s, {@code source_sizes}) minus
 * its committed offsets: it lags reality by at most one report interval. A node whose report is
 * older than {@code staleAfterSeconds} is STALE: its worker is not running, or cannot reach the
 * database; then its lag is what it was and the age of the last commit is the figure to watch.
 */
public final class ClusterStatus {
  /** One node's row. {@code lagBytes}, {@code reportedAgeS} and the commit fields may be null. */
  public record Node(String name, int nodeId, long batches, long lines, Timestamp lastCommitAt, Double lastCommitAgeS,
      long sources, long committedBytes, Long lagBytes, Double reportedAgeS) {

    /** Reported long ago (or never while it has committed): not running, or cut off from the database. */
    public boolean stale(double staleAfterSeconds) {
      return reportedAgeS == null ? batches > 0 : reportedAgeS > staleAfterSeconds;
    }
  }

  private ClusterStatus() {}

  public static List<Node> read(Connection c) throws SQLException {
    List<Node> nodes = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT node, node_id, batches, lines,"
        + " last_commit_at, last_commit_age_s, sources, committed_bytes, lag_bytes, reported_age_s FROM cluster_status"
        + " ORDER BY node")) {
      while (rs.next()) {
        nodes.add(new Node(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getLong(4), rs.getTimestamp(5),
            (Double) rs.getObject(6), rs.getLong(7), rs.getLong(8), (Long) rs.getObject(9), (Double) rs.getObject(10)));
      }
    }
    return nodes;
  }

  /** The table an operator reads. */
  public static String render(List<Node> nodes, String database, double staleAfterSeconds) {
    StringBuilder b = new StringBuilder();
    long lines = 0;
    long lag = 0;
    int stale = 0;
    for (Node n : nodes) {
      lines += n.lines();
      lag += n.lagBytes() == null ? 0 : n.lagBytes();
      stale += n.stale(staleAfterSeconds) ? 1 : 0;
    }
    b.append(String.format(Locale.ROOT, "cluster    %d node(s) in %s: %,d lines committed, total lag %s%s%n", nodes.size(),
        database, lines, StatusCommand.bytes(lag), stale == 0 ? "" : ", " + stale + " STALE"));
    b.append(String.format(Locale.ROOT, "  %-16s %-6s %10s %14s %12s %12s %10s%n", "node", "state", "batches", "lines",
        "last commit", "lag", "reported"));
    for (Node n : nodes) {
      String state = n.batches() == 0 && n.reportedAgeS() == null ? "new" : n.stale(staleAfterSeconds) ? "STALE" : "ok";
      b.append(String.format(Locale.ROOT, "  %-16s %-6s %10d %,14d %12s %12s %10s%n", n.name(), state, n.batches(),
          n.lines(), n.lastCommitAgeS() == null ? "never" : ago(n.lastCommitAgeS()),
          n.lagBytes() == null ? "unknown" : StatusCommand.bytes(n.lagBytes()),
          n.reportedAgeS() == null ? "never" : ago(n.reportedAgeS())));
    }
    if (stale > 0) {
      b.append(String.format(Locale.ROOT, "STALE: no size report for over %.0f s: is logtail running on that host, and does"
          + " it reach the database? (./logtail status there shows its worker)%n", staleAfterSeconds));
    }
    return b.toString();
  }

  private static String ago(double secs) {
    return StatusCommand.age((long) Math.max(0, Math.floor(secs))) + " ago";
  }
}
