package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** verify's repeatable --node-id ID --log ... groups: each --log belongs to the --node-id before it. */
class VerifyNodesOptionTest {
  private static VerifyCommand parse(String... args) {
    VerifyCommand v = new VerifyCommand();
    new CommandLine(v).parseArgs(args);
    return v;
  }

  @Test
  void oneNodeAsBefore() {
    VerifyCommand v = parse("--log", "/l/a.log*", "--db-url", "jdbc:postgresql://h/d", "--node-id", "n1");
    assertEquals(1, v.nodes.size());
    assertEquals("n1", v.nodes.get(0).nodeId);
    assertEquals(List.of("/l/a.log*"), v.nodes.get(0).logs);
  }

  @Test
  void severalNodesEachWithItsLogs() {
    VerifyCommand v = parse("--node-id", "a", "--log", "/a/1", "--log", "/a/2", "--node-id", "b", "--log", "/b/1",
        "--no-progress", "--node-id", "c", "--log", "/c/1");
    assertEquals(3, v.nodes.size());
    assertEquals("a", v.nodes.get(0).nodeId);
    assertEquals(List.of("/a/1", "/a/2"), v.nodes.get(0).logs);
    assertEquals("b", v.nodes.get(1).nodeId);
    assertEquals(List.of("/b/1"), v.nodes.get(1).logs);
    assertEquals("c", v.nodes.get(2).nodeId);
    assertEquals(List.of("/c/1"), v.nodes.get(2).logs);
  }

  @Test
  void aNodeWithoutLogIsRefused() {
    CommandLine cl = new CommandLine(new VerifyCommand());
    cl.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
    assertNotEquals(0, cl.execute("--node-id", "a", "--log", "/a/1", "--node-id", "b"));
  }
}
