package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CliHelpTest {
  private static void assertHelpLists(List<String> command, String... options) {
    String[] args = new String[command.size() + 1];
    for (int i = 0; i < command.size(); i++) {
      args[i] = command.get(i);
    }
    args[command.size()] = "--help";
    CliTestSupport.Run r = CliTestSupport.run(args);
    assertEquals(0, r.exit(), r.err());
    for (String o : options) {
      assertTrue(r.out().contains(o), String.join(" ", command) + " --help should list " + o + ":\n" + r.out());
    }
    assertTrue(r.out().contains("Exit status"), "exit codes are documented:\n" + r.out());
  }

  @Test
  void topLevelListsTheCommands() {
    CliTestSupport.Run r = CliTestSupport.run("--help");
    assertEquals(0, r.exit());
    for (String c : List.of("run", "status", "recover", "roll", "ballots", "binlog", "bench")) {
      assertTrue(r.out().contains("  " + c + " "), c + " missing:\n" + r.out());
    }
  }

  @Test
  void rollLoad() {
    assertHelpLists(List.of("roll", "load"), "FILE", "--scope", "--db-url", "--db-user", "--db-password",
        "--data-dir", "--db-port", "LOGTAIL_DB_URL", "54329");
  }

  @Test
  void ballotsLoad() {
    assertHelpLists(List.of("ballots", "load"), "FILE", "--db-url", "--db-user", "--db-password", "--data-dir",
        "--db-port");
  }

  @Test
  void binlogDump() {
    assertHelpLists(List.of("binlog", "dump"), "--data-dir", "--from", "--to", "--batch", "--file",
        "--fingerprint", "--json");
  }

  @Test
  void recover() {
    assertHelpLists(List.of("recover"), "--log", "--node-id", "--data-dir", "--db-url", "--timeout");
  }

  @Test
  void bench() {
    assertHelpLists(List.of("bench"), "--lines", "--seed", "--work-dir", "--db-url", "--json", "5000000",
        "target/bench");
  }

  @Test
  void benchRateMode() {
    assertHelpLists(List.of("bench"), "--rate", "--duration", "--restart", "--worker-arg");
    CliTestSupport.Run r = CliTestSupport.run("bench", "--rate", "1000", "--duration", "0.5");
    assertEquals(2, r.exit(), "checked before anything starts");
    assertTrue(r.err().contains("--duration must be at least 1 s"), r.err());
  }

  @Test
  void run() {
    assertHelpLists(List.of("run"), "--log", "--in-process", "--status-addr", "--status-token",
        "--heartbeat-timeout", "--max-restarts", "--restart-window", "--fsync-interval", "--health-max-lag-bytes",
        "127.0.0.1:9180");
  }

  @Test
  void status() {
    assertHelpLists(List.of("status"), "--status-addr", "--json", "--token");
  }

  @Test
  void statusWithoutAdminSaysSo() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    CliTestSupport.Run r = CliTestSupport.run("status", "--status-addr", "127.0.0.1:" + port);
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("is logtail running?"), r.err());
  }
}
