package io.logtail.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

class DatabaseIT {
  private static final String TEST_MIGRATIONS = "classpath:db/testmigration";

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void twoNodesMigratingAFreshDatabaseAtOnceApplyEachMigrationOnce() throws Exception {
    String url = TestDatabase.createDatabase("concurrent_migrate");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Database> nodes = new ArrayList<>();
    try {
      CyclicBarrier together = new CyclicBarrier(2);
      List<Future<MigrateResult>> results = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        // each "node" has a pool of its own, as separate processes would
        Database db = Database.builder(url).poolName("node-" + i).migrationLocations(TEST_MIGRATIONS).build();
        nodes.add(db);
        results.add(pool.submit(() -> {
          together.await(30, TimeUnit.SECONDS);
          return db.migrate();
        }));
      }
      int executed = 0;
      for (Future<MigrateResult> f : results) {
        MigrateResult r = f.get(120, TimeUnit.SECONDS);
        assertTrue(r.success);
        executed += r.migrationsExecuted;
      }
      assertEquals(2, executed, "V1 and V2 applied once in all");
      try (Connection c = nodes.get(0).connection()) {
        assertEquals(1, count(c, "SELECT count(*) FROM probe"));
        assertEquals(2, count(c, "SELECT count(*) FROM flyway_schema_history WHERE success AND version IS NOT NULL"));
      }
    } finally {
      pool.shutdownNow();
      nodes.forEach(Database::close);
    }
  }

  @Test
  void freshGivesEachTestAnEmptyMigratedDatabase() throws Exception {
    try (Database a = TestDatabase.fresh("fresh_same_name", TEST_MIGRATIONS);
         Database b = TestDatabase.fresh("fresh_same_name", TEST_MIGRATIONS)) {
      try (Connection c = a.connection(); Statement st = c.createStatement()) {
        st.execute("INSERT INTO probe VALUES (2, 'only in a')");
        assertEquals(2, count(c, "SELECT count(*) FROM probe"));
      }
      try (Connection c = b.connection()) {
        assertEquals(1, count(c, "SELECT count(*) FROM probe"), "b is a database of its own");
        assertEquals("on", showSetting(c, "synchronous_commit"));
      }
      assertEquals("true", a.dataSource().getDataSourceProperties().getProperty("reWriteBatchedInserts"));
      // a second migrate finds nothing to do
      assertEquals(0, a.migrate().migrationsExecuted);
    }
  }

  @Test
  void theRealSchemaAppliesToAFreshDatabase() throws Exception {
    // classpath:db/migration comes from the sql module; until it has migrations this applies none
    try (Database db = TestDatabase.fresh("real_schema")) {
      assertTrue(db.reachable(Duration.ofSeconds(5)));
      assertEquals(0, db.migrate().migrationsExecuted, "a second migrate finds nothing to do");
    }
  }

  @Test
  void aWorkerSkipsFlywayOnlyWhenTheSchemaIsAtThePackagedVersion() throws Exception {
    String url = TestDatabase.createDatabase("unless_current");
    try (Database db = Database.builder(url).build()) {
      assertTrue(db.migrateUnlessCurrent(), "an empty database: Flyway runs");
      assertFalse(db.migrateUnlessCurrent(), "at SCHEMA_VERSION with no failed migration: one query, no Flyway");
      try (Connection c = db.connection(); Statement st = c.createStatement()) {
        assertEquals(Database.SCHEMA_VERSION, queryText(st,
            "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1"));
        // the history says another version (a newer or older build migrated it): Flyway decides
        st.execute("UPDATE flyway_schema_history SET version = '0' WHERE version = '" + Database.SCHEMA_VERSION + "'");
      }
      assertThrows(RuntimeException.class, db::migrateUnlessCurrent,
          "a history that is not at SCHEMA_VERSION goes to Flyway, whose validation refuses this one");
    }
  }

  private static String queryText(Statement st, String sql) throws Exception {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void reachableSaysYesQuicklyAndNoWithinItsTimeout() throws Exception {
    try (Database db = Database.builder(TestDatabase.createDatabase("reachable")).build()) {
      assertTrue(db.reachable(Duration.ofSeconds(2)));
    }
    int closedPort = TestDatabase.freePort();
    try (Database down = Database.builder("jdbc:postgresql://127.0.0.1:" + closedPort + "/logtail?user=logtail&password=hunter2")
        .build()) {
      long t0 = System.nanoTime();
      assertFalse(down.reachable(Duration.ofSeconds(2)));
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "answers within its timeout");
      assertFalse(down.redactedUrl().contains("hunter2"));
      assertFalse(down.toString().contains("hunter2"));
    }
  }

  private static String showSetting(Connection c, String name) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
