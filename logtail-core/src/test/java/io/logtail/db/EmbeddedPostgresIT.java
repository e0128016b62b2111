package io.logtail.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class EmbeddedPostgresIT {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresIT.class);
  private final List<EmbeddedPostgres> toStop = new ArrayList<>();

  @AfterEach
  void stopServers() {
    for (EmbeddedPostgres pg : toStop) {
      pg.stop();
    }
  }

  /** A data directory of its own for each test and run, so a server left by a killed run is never in the way. */
  private static Path newDataDir(String name) throws IOException {
    Path base = Path.of("target", "test-pg-it").toAbsolutePath();
    Files.createDirectories(base);
    return Files.createTempDirectory(base, name + "-");
  }

  private EmbeddedPostgres track(EmbeddedPostgres pg) {
    toStop.add(pg);
    return pg;
  }

  private static String show(Connection c, String setting) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void startsFromNothingDurableThenReusesThenKeepsDataAcrossStop() throws Exception {
    Path dir = newDataDir("from-nothing");
    int port = TestDatabase.freePort();

    long t0 = System.nanoTime();
    EmbeddedPostgres pg = track(EmbeddedPostgres.start(dir, port));
    log.info("first start from nothing (unpack + initdb + start): {} ms", (System.nanoTime() - t0) / 1_000_000);
    assertFalse(pg.reused());
    assertEquals(port, pg.port());
    assertEquals("jdbc:postgresql://127.0.0.1:" + port + "/logtail?user=logtail", pg.jdbcUrl());
    assertTrue(Files.isExecutable(dir.resolve("pgsql-16.10.0/bin/postgres")), "binaries unpacked into the versioned dir");
    assertTrue(Files.exists(dir.resolve("pgdata/PG_VERSION")));
    if (PgCommands.effectiveUid() == 0) {
      assertNotEquals(EmbeddedPostgres.RunAs.DIRECT, pg.runAs(), "as root PostgreSQL must not run directly");
    }

    try (Connection c = DriverManager.getConnection(pg.jdbcUrl())) {
      assertEquals("on", show(c, "synchronous_commit"));
      assertEquals("on", show(c, "fsync"));
      assertEquals("on", show(c, "full_page_writes"));
      assertEquals("127.0.0.1", show(c, "listen_addresses"));
      assertEquals("UTF8", show(c, "server_encoding"));
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE kept (v text)");
        st.execute("INSERT INTO kept VALUES ('survives a restart')");
      }
    }

    t0 = System.nanoTime();
    EmbeddedPostgres again = EmbeddedPostgres.start(dir, port);
    log.info("second start on a running server (reuse): {} ms", (System.nanoTime() - t0) / 1_000_000);
    assertTrue(again.reused(), "a running server on the same data dir is reused");
    assertEquals(pg.postmasterPid(), again.postmasterPid(), "same postmaster");

    pg.stop();
    assertFalse(pg.isRunning());
    assertFalse(again.isRunning());

    t0 = System.nanoTime();
    EmbeddedPostgres third = track(EmbeddedPostgres.start(dir, port));
    log.info("start after stop (no unpack, no initdb): {} ms", (System.nanoTime() - t0) / 1_000_000);
    assertFalse(third.reused());
    assertNotEquals(pg.postmasterPid(), third.postmasterPid());
    try (Connection c = DriverManager.getConnection(third.jdbcUrl());
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT v FROM kept")) {
      assertTrue(rs.next());
      assertEquals("survives a restart", rs.getString(1));
    }
  }

  @Test
  void serverOutlivesAJvmKilledMinus9AndIsReused() throws Exception {
    Path dir = newDataDir("kill9");
    int port = TestDatabase.freePort();
    Path cache = TestDatabase.binariesCacheDir();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        EmbeddedPostgresChild.class.getName(), dir.toString(), cache.toString(), Integer.toString(port))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    long childPid;
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = CompletableFuture.supplyAsync(() -> {
        try {
          for (String l; (l = out.readLine()) != null; ) {
            if (l.startsWith("READY ")) {
              return l;
            }
          }
          return null;
        } catch (IOException e) {
          return null;
        }
      }).get(180, TimeUnit.SECONDS);
      assertTrue(line != null, "child JVM started the server");
      childPid = Long.parseLong(line.split(" ")[1]);
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no pg_ctl stop
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    }
    assertEquals(137, child.exitValue(), "killed by SIGKILL");

    EmbeddedPostgres pg = track(EmbeddedPostgres.builder().dataDir(dir).binariesCacheDir(cache).port(port).start());
    assertTrue(pg.reused(), "the server started by the killed JVM is still running and is reused");
    assertEquals(childPid, pg.postmasterPid());
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl())) {
      assertEquals("on", show(c, "fsync"));
    }
  }

  @Test
  void postmasterKilledMinus9RecoversWithEveryCommittedRow() throws Exception {
    Path dir = newDataDir("postmaster-kill9");
    int port = TestDatabase.freePort();
    EmbeddedPostgres pg = track(EmbeddedPostgres.builder().dataDir(dir)
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start());
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE committed (n int)");
      c.setAutoCommit(false);
      for (int i = 0; i < 100; i++) {
        st.execute("INSERT INTO committed VALUES (" + i + ")");
        c.commit();
      }
    }
    ProcessHandle postmaster = ProcessHandle.of(pg.postmasterPid()).orElseThrow();
    assertTrue(postmaster.destroyForcibly(), "SIGKILL sent to the postmaster");
    postmaster.onExit().get(60, TimeUnit.SECONDS);

    EmbeddedPostgres again = EmbeddedPostgres.builder().dataDir(dir)
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start();
    assertNotEquals(pg.postmasterPid(), again.postmasterPid(), "a new postmaster");
    try (Connection c = DriverManager.getConnection(again.jdbcUrl());
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT n) FROM committed")) {
      rs.next();
      assertEquals(100, rs.getInt(1), "every committed row survived");
      assertEquals(100, rs.getInt(2));
    }
  }

  @Test
  void portTakenBySomethingElseSaysWhichPortAndWhatToDo() throws Exception {
    Path dir = newDataDir("port-taken");
    try (ServerSocket other = new ServerSocket()) {
      other.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      int port = other.getLocalPort();
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> track(EmbeddedPostgres.builder()
          .dataDir(dir).binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start()));
      log.info("port-taken message: {}", e.getMessage());
      assertTrue(e.getMessage().contains("Port " + port), e.getMessage());
      assertTrue(e.getMessage().contains("--db-port"), e.getMessage());
    }
  }

  @Test
  void reusedServerGetsDurableSettingsBackOrRefusesWhenAlterSystemTurnedThemOff() throws Exception {
    Path dir = newDataDir("not-durable");
    int port = TestDatabase.freePort();
    EmbeddedPostgres pg = track(EmbeddedPostgres.builder().dataDir(dir)
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start());
    // a running server whose settings file turned synchronous_commit off (an older or hand-edited logtail.conf)
    Path conf = pg.pgData().resolve("logtail.conf");
    Files.writeString(conf, Files.readString(conf).replace("synchronous_commit = on", "synchronous_commit = off"));
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement st = c.createStatement()) {
      st.execute("SELECT pg_reload_conf()");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!"off".equals(show(c, "synchronous_commit"))) {
        assertTrue(System.nanoTime() < deadline, "reload took effect");
      }
    }
    EmbeddedPostgres reused = EmbeddedPostgres.builder().dataDir(dir)
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start();
    assertTrue(reused.reused());
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl())) {
      assertEquals("on", show(c, "synchronous_commit"), "start rewrote logtail.conf and reloaded it");
    }

    try (Connection c = DriverManager.getConnection(pg.jdbcUrl()); Statement st = c.createStatement()) {
      st.execute("ALTER SYSTEM SET synchronous_commit = off");
      st.execute("SELECT pg_reload_conf()");
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> EmbeddedPostgres.builder()
        .dataDir(dir).binariesCacheDir(TestDatabase.binariesCacheDir()).port(port).start());
    log.info("not-durable message: {}", e.getMessage());
    assertTrue(e.getMessage().contains("synchronous_commit=off"), e.getMessage());
    assertTrue(e.getMessage().contains("ALTER SYSTEM RESET"), e.getMessage());
  }

  @Test
  void setprivFallbackRunsAsNobody() throws Exception {
    Assumptions.assumeTrue(PgCommands.effectiveUid() == 0, "only as root");
    Assumptions.assumeTrue(PgCommands.exec(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "true"), java.util.Map.of(), java.time.Duration.ofSeconds(10)).exitCode() == 0, "setpriv works here");
    Path dir = newDataDir("setpriv");
    EmbeddedPostgres pg = track(EmbeddedPostgres.builder().dataDir(dir).binariesCacheDir(TestDatabase.binariesCacheDir())
        .port(TestDatabase.freePort()).runAs(EmbeddedPostgres.RunAs.SETPRIV).start());
    assertEquals(65534, Files.getAttribute(pg.pgData(), "unix:uid"));
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl())) {
      assertEquals("on", show(c, "fsync"));
      assertEquals("on", show(c, "synchronous_commit"));
    }
  }
}
