package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Timestamp;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterStatusTest {
  @Test
  void rendersEveryNodeAndFlagsStaleOnes() {
    List<ClusterStatus.Node> nodes = List.of(
        new ClusterStatus.Node("a", 1, 12, 120_000, new Timestamp(0), 3.2, 1, 24_000_000, 2048L, 1.5),
        new ClusterStatus.Node("b", 2, 7, 70_000, new Timestamp(0), 400.0, 2, 14_000_000, 1_048_576L, 95.0),
        new ClusterStatus.Node("c", 3, 0, 0, null, null, 0, 0, null, null));
    String out = ClusterStatus.render(nodes, "jdbc:postgresql://db/logtail", 30);
    assertTrue(out.contains("3 node(s) in jdbc:postgresql://db/logtail: 190,000 lines committed, total lag 1.0 MiB, 1 STALE"), out);
    assertTrue(out.matches("(?s).*\\n  a +ok +12 +120,000 +3s ago +2.0 KiB +1s ago\\n.*"), out);
    assertTrue(out.matches("(?s).*\\n  b +STALE +7 +70,000 +6m ago +1.0 MiB +95s ago\\n.*"), out);
    assertTrue(out.matches("(?s).*\\n  c +new +0 +0 +never +unknown +never\\n.*"), out);
    assertTrue(out.contains("STALE: no size report for over 30 s"), out);
    assertTrue(nodes.get(1).stale(30));
    assertFalse(nodes.get(0).stale(30));
    assertFalse(nodes.get(2).stale(30), "a node that never committed nor reported is new, not stale");
  }
}
