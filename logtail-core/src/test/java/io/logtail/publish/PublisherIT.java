package io.logtail.publish;

import static io.logtail.publish.PublishFixture.choices;
import static io.logtail.publish.PublishFixture.gunzip;
import static io.logtail.publish.PublishFixture.read;
import static io.logtail.publish.PublishFixture.voteLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.logtail.db.Database;
import io.logtail.db.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The publisher against a real PostgreSQL: values equal to the database at the batch a file names
 * (also while batches commit during publishing),
 * files rewritten only when their data changed, seq kept across a restart, and a reader that loops
 * over every file during many cycles of changing data and never sees a partial or invalid file, nor a
 * seq that goes back. (Last good on error, with PostgreSQL stopped: PublisherOutageIT in admin-process,
 * which also checks the status port.)
 */
class PublisherIT {
  private static final Instant T0 = Instant.parse("2026-12-06T21:00:00Z");
  @TempDir Path dir;

  private static PublisherConfig config(Path dir, Duration interval) {
    return new PublisherConfig(dir, interval, Duration.ZERO, Duration.ofSeconds(30), 4, true);
  }

  @Test
  void valuesEqualTheDatabaseAtThePublishedBatch() throws Exception {
    try (Database db = TestDatabase.fresh("publisher_values");
        Publisher p = new Publisher(db.dataSource(), config(dir, Duration.ofSeconds(5)),
            new PublishFixture.SettableClock(T0))) {
      PublishFixture fx = new PublishFixture(db.dataSource());
      try (Connection c = db.connection(); Statement st = c.createStatement()) {
        st.execute("INSERT INTO ballots VALUES ('city-0', ARRAY['c0','c1','c2']), ('city-1', ARRAY['c0','c1'])");
        st.execute("INSERT INTO voter_roll_scopes (scope, voters) VALUES ('*', 1000), ('city-1', 40)");
      }
      fx.commit("n1", new PublishFixture.Batch().vote("city-0", "c0", 7).vote("city-0", "c1", 3).vote("city-1", "c1", 2)
          .vote("city-2", "x", 1).duplicate("city-0", 1, 2).duplicate("city-0", 2, 1)
          .reject(voteLine("city-0", "zz"), "unknown_choice").reject(voteLine("city-0", "c0").replace("voter=00", "voter=bad"), "bad_voter")
          .reject(voteLine("city-1", "c9"), "unknown_choice")
          .reject(voteLine("<script>", "c0"), "bad_ballot")
          .reject("\u00ff\u00fe not a request at all ballot=city-0", "malformed_line")
          .canvass(40));
      fx.commit("n2", new PublishFixture.Batch().vote("city-0", "c0", 1).canvass(5));
      assertTrue(p.publishOnce(), p.state().lastError());

      JsonNode index = read(dir.resolve("results/index.json"));
      assertEquals(1, index.path("schema").asInt());
      assertEquals(1, index.path("seq").asLong());
      assertEquals(1, index.path("batches").path("n1").asLong());
      assertEquals(1, index.path("batches").path("n2").asLong());
      assertEquals("2026-12-06T20:00:00.010Z", index.path("updated_at").asText(), "the newest batch's commit time");
      Map<String, Map<String, Long>> db1 = PublishFixture.tallies(db.dataSource());
      Map<String, Map<String, Long>> published = new TreeMap<>();
      List<String> order = new ArrayList<>();
      for (JsonNode b : index.path("ballots")) {
        order.add(b.path("ballot").asText());
        Map<String, Long> ch = choices(b);
        ch.values().removeIf(v -> v == 0);   // listed choices without votes are published with 0
        published.put(b.path("ballot").asText(), ch);
        long sum = 0;
        for (JsonNode c : b.path("choices")) {
          sum += c.path("votes").asLong();
        }
        assertEquals(sum, b.path("votes").asLong());
      }
      assertEquals(db1, published, "index.json equals vote_tallies");
      assertEquals(List.of("city-0", "city-1", "city-2"), order, "sorted by ballot name");

      JsonNode c0 = read(dir.resolve("results/ballot/city-0.json"));
      assertEquals("city-0", c0.path("ballot").asText());
      assertEquals(11, c0.path("votes").asLong());
      // sorted by votes desc, then name; the listed choice c2 with 0 votes
      assertEquals("[{\"choice\":\"c0\",\"votes\":8,\"share\":0.7273},{\"choice\":\"c1\",\"votes\":3,\"share\":0.2727},"
          + "{\"choice\":\"c2\",\"votes\":0,\"share\":0}]", c0.path("choices").toString());
      assertEquals(PublishFixture.queryLong(db.dataSource(), "SELECT count(*) FROM vote_duplicates WHERE ballot = 'city-0'"),
          c0.path("duplicates").path("voters").asLong());
      assertEquals(PublishFixture.queryLong(db.dataSource(), "SELECT sum(attempts) FROM vote_duplicates WHERE ballot = 'city-0'"),
          c0.path("duplicates").path("attempts").asLong());
      assertEquals("{\"total\":2,\"by_reason\":{\"bad_voter\":1,\"unknown_choice\":1}}", c0.path("rejects").toString(),
          "the referer's ballot, a bad ballot name and a line that is not a request are not counted for city-0");
      assertEquals("{\"roll\":1000,\"voted\":11,\"share\":0.011}", c0.path("turnout").toString(), "the '*' roll");
      JsonNode c1 = read(dir.resolve("results/ballot/city-1.json"));
      assertEquals("{\"roll\":40,\"voted\":2,\"share\":0.05}", c1.path("turnout").toString(), "the ballot's own roll");
      assertEquals(1, c1.path("rejects").path("by_reason").path("unknown_choice").asLong());
      assertEquals(2, index.path("ballots").get(0).path("rejects").asLong());
      assertEquals(3, index.path("ballots").get(0).path("duplicates").asLong());

      // cells equal canvass_localities
      JsonNode cells = read(dir.resolve("canvass/cells.geojson"));
      assertEquals("FeatureCollection", cells.path("type").asText());
      assertEquals(1, cells.path("seq").asLong());
      Map<String, Long> fromDb = new TreeMap<>();
      try (Connection c = db.connection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT cell_lat, cell_lon, kind, issue, stance, records FROM canvass_localities")) {
        while (rs.next()) {
          String cell = rs.getInt(1) + "," + rs.getInt(2);
          fromDb.merge(cell + " records", rs.getLong(6), Long::sum);
          switch (rs.getString(3)) {
            case "visit" -> fromDb.merge(cell + " visits", rs.getLong(6), Long::sum);
            case "followup" -> fromDb.merge(cell + " followups", rs.getLong(6), Long::sum);
            default -> fromDb.merge(cell + " " + rs.getString(4) + " " + rs.getString(5), rs.getLong(6), Long::sum);
          }
        }
      }
      Map<String, Long> fromFile = new TreeMap<>();
      for (JsonNode f : cells.path("features")) {
        JsonNode pr = f.path("properties");
        int lat = pr.path("cell_lat").asInt();
        int lon = pr.path("cell_lon").asInt();
        String cell = lat + "," + lon;
        fromFile.put(cell + " records", pr.path("records").asLong());
        putIfPositive(fromFile, cell + " visits", pr.path("visits").asLong());
        putIfPositive(fromFile, cell + " followups", pr.path("followups").asLong());
        pr.path("intentions").fields().forEachRemaining(e -> e.getValue().fields().forEachRemaining(
            s -> putIfPositive(fromFile, cell + " " + e.getKey() + " " + s.getKey(), s.getValue().asLong())));
        JsonNode ring = f.path("geometry").path("coordinates").get(0);
        assertEquals(5, ring.size());
        assertEquals(lon / 1000.0, ring.get(0).get(0).asDouble(), 1e-12);
        assertEquals(lat / 1000.0, ring.get(0).get(1).asDouble(), 1e-12);
        assertEquals((lon + 1) / 1000.0, ring.get(2).get(0).asDouble(), 1e-12);
        assertEquals((lat + 1) / 1000.0, ring.get(2).get(1).asDouble(), 1e-12);
        assertEquals(ring.get(0), ring.get(4), "closed ring");
      }
      assertEquals(fromDb, fromFile, "cells.geojson equals canvass_localities");

      // every file has a .gz twin with the same content
      for (String f : List.of("results/index.json", "results/ballot/city-0.json", "canvass/cells.geojson",
          "results/status.json")) {
        assertArrayEquals(Files.readAllBytes(dir.resolve(f)), gunzip(Files.readAllBytes(dir.resolve(f + ".gz"))), f);
      }
      JsonNode status = read(dir.resolve("results/status.json"));
      assertTrue(status.path("ok").asBoolean());
      assertEquals(1, status.path("seq").asLong());
      assertEquals("2026-12-06T21:00:00Z", status.path("checked_at").asText());
      assertEquals(5, status.path("interval_s").asInt());
      assertTrue(status.path("stale_since").isNull());
      assertTrue(status.path("error").isNull());
    }
  }

  private static void putIfPositive(Map<String, Long> m, String k, long v) {
    if (v > 0) {
      m.put(k, v);
    }
  }

  @Test
  void filesAreRewrittenOnlyWhenTheirDataChanged() throws Exception {
    PublishFixture.SettableClock clock = new PublishFixture.SettableClock(T0);
    try (Database db = TestDatabase.fresh("publisher_only_changed");
        Publisher p = new Publisher(db.dataSource(), new PublisherConfig(dir, Duration.ofSeconds(5),
            Duration.ofSeconds(30), Duration.ofSeconds(30), 4, true), clock)) {
      PublishFixture fx = new PublishFixture(db.dataSource());
      fx.commit("n1", new PublishFixture.Batch().vote("a", "x", 1).vote("b", "y", 2).canvass(3));
      assertTrue(p.publishOnce());
      Map<String, Object> before = keys("results/index.json", "results/ballot/a.json", "results/ballot/b.json",
          "canvass/cells.geojson", "results/index.json.gz", "results/ballot/a.json.gz");
      byte[] index = Files.readAllBytes(dir.resolve("results/index.json"));
      byte[] status = Files.readAllBytes(dir.resolve("results/status.json"));

      clock.advance(Duration.ofSeconds(5));
      assertTrue(p.publishOnce());   // nothing committed
      assertEquals(before, keys("results/index.json", "results/ballot/a.json", "results/ballot/b.json",
          "canvass/cells.geojson", "results/index.json.gz", "results/ballot/a.json.gz"),
          "same inode and mtime: nothing rewritten");
      assertArrayEquals(index, Files.readAllBytes(dir.resolve("results/index.json")));
      assertNotEquals(new String(status), Files.readString(dir.resolve("results/status.json")),
          "status.json is the heartbeat: rewritten every cycle");
      assertEquals(1, p.state().seq());

      // a vote for b: b's file and the index change, a's does not; seq + 1
      clock.advance(Duration.ofSeconds(5));
      fx.commit("n1", new PublishFixture.Batch().vote("b", "y", 1));
      assertTrue(p.publishOnce());
      Map<String, Object> after = keys("results/index.json", "results/ballot/a.json", "results/ballot/b.json",
          "canvass/cells.geojson", "results/index.json.gz", "results/ballot/a.json.gz");
      assertEquals(before.get("results/ballot/a.json"), after.get("results/ballot/a.json"), "a unchanged");
      assertEquals(before.get("results/ballot/a.json.gz"), after.get("results/ballot/a.json.gz"));
      assertEquals(before.get("canvass/cells.geojson"), after.get("canvass/cells.geojson"), "cells not due yet");
      assertNotEquals(before.get("results/ballot/b.json"), after.get("results/ballot/b.json"));
      assertNotEquals(before.get("results/index.json"), after.get("results/index.json"));
      assertEquals(2, read(dir.resolve("results/index.json")).path("seq").asLong());
      assertEquals(2, read(dir.resolve("results/ballot/b.json")).path("seq").asLong());
      assertEquals(2, read(dir.resolve("results/ballot/b.json")).path("batches").path("n1").asLong());
      JsonNode a = read(dir.resolve("results/ballot/a.json"));
      assertEquals(1, a.path("seq").asLong(), "an unchanged file keeps the seq and batches it was written with");
      assertEquals(1, a.path("batches").path("n1").asLong());

      // a canvass-only batch: no ballot file changes; at the cells interval the cells and the index do
      fx.commit("n1", new PublishFixture.Batch().canvass(2));
      clock.advance(Duration.ofSeconds(30));
      assertTrue(p.publishOnce());
      Map<String, Object> third = keys("results/index.json", "results/ballot/a.json", "results/ballot/b.json",
          "canvass/cells.geojson", "results/index.json.gz", "results/ballot/a.json.gz");
      assertEquals(after.get("results/ballot/b.json"), third.get("results/ballot/b.json"));
      assertNotEquals(after.get("canvass/cells.geojson"), third.get("canvass/cells.geojson"));
      assertEquals(3, read(dir.resolve("canvass/cells.geojson")).path("seq").asLong());
      assertEquals(3, read(dir.resolve("results/index.json")).path("seq").asLong());
      assertEquals(3, read(dir.resolve("results/index.json")).path("batches").path("n1").asLong());
    }
  }

  /** file -> (inode, mtime) */
  private Map<String, Object> keys(String... files) throws Exception {
    Map<String, Object> m = new HashMap<>();
    for (String f : files) {
      BasicFileAttributes a = Files.readAttributes(dir.resolve(f), BasicFileAttributes.class);
      m.put(f, a.fileKey() + "@" + a.lastModifiedTime().toMillis() + "/" + a.lastModifiedTime());
    }
    return m;
  }

  @Test
  void seqSurvivesARestartAndNothingUnchangedIsRewritten() throws Exception {
    try (Database db = TestDatabase.fresh("publisher_restart")) {
      PublishFixture fx = new PublishFixture(db.dataSource());
      fx.commit("n1", new PublishFixture.Batch().vote("a", "x", 1).canvass(1));
      try (Publisher p = new Publisher(db.dataSource(), config(dir, Duration.ofSeconds(5)), new PublishFixture.SettableClock(T0))) {
        assertTrue(p.publishOnce());
        fx.commit("n1", new PublishFixture.Batch().vote("a", "x", 1));
        assertTrue(p.publishOnce());
        assertEquals(2, p.state().seq());
      }
      Map<String, Object> before = keys("results/index.json", "results/ballot/a.json", "canvass/cells.geojson");
      try (Publisher p = new Publisher(db.dataSource(), config(dir, Duration.ofSeconds(5)), new PublishFixture.SettableClock(T0))) {
        assertTrue(p.publishOnce());
        assertEquals(2, p.state().seq(), "read back from the files");
        assertEquals(before, keys("results/index.json", "results/ballot/a.json", "canvass/cells.geojson"),
            "a restart rewrites nothing that did not change");
        fx.commit("n1", new PublishFixture.Batch().vote("a", "y", 1));
        assertTrue(p.publishOnce());
        assertEquals(3, read(dir.resolve("results/index.json")).path("seq").asLong());
        assertEquals(3, read(dir.resolve("results/ballot/a.json")).path("seq").asLong());
        // a second publisher on the same directory is refused while this one holds it
        try (Publisher other = new Publisher(db.dataSource(), config(dir, Duration.ofSeconds(5)),
            new PublishFixture.SettableClock(T0))) {
          IllegalStateException e = assertThrows(IllegalStateException.class, other::open);
          assertTrue(e.getMessage().contains("another publisher"), e.getMessage());
        }
      }
    }
  }

  @Test
  void withASeqFileSeqGoesOnAfterThePublishDirectoryWasEmptied() throws Exception {
    // the publish directory on a tmpfs: a reboot empties it; the seq file (on a disk) keeps seq growing
    Path www = dir.resolve("www");
    Path seqFile = dir.resolve("state").resolve("publish.seq");
    PublisherConfig cfg = config(www, Duration.ofSeconds(5)).withSeqFile(seqFile);
    assertThrows(IllegalArgumentException.class, () -> config(www, Duration.ofSeconds(5)).withSeqFile(www.resolve("s")),
        "a seq file inside the publish directory is refused");
    try (Database db = TestDatabase.fresh("publisher_seqfile")) {
      PublishFixture fx = new PublishFixture(db.dataSource());
      fx.commit("n1", new PublishFixture.Batch().vote("a", "x", 1));
      try (Publisher p = new Publisher(db.dataSource(), cfg, new PublishFixture.SettableClock(T0))) {
        assertTrue(p.publishOnce());
        fx.commit("n1", new PublishFixture.Batch().vote("a", "x", 1));
        assertTrue(p.publishOnce());
        assertEquals(2, p.state().seq());
      }
      assertEquals("2", Files.readString(seqFile).trim());
      // the reboot: everything under the publish directory is gone
      try (var files = Files.walk(www)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
      try (Publisher p = new Publisher(db.dataSource(), cfg, new PublishFixture.SettableClock(T0))) {
        assertTrue(p.publishOnce());
        assertEquals(3, read(www.resolve("results/index.json")).path("seq").asLong(), "seq went on from the seq file");
        assertEquals(3, read(www.resolve("results/ballot/a.json")).path("seq").asLong());
      }
      // without it, seq starts again: what the seq file is for
      try (var files = Files.walk(www)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
      try (Publisher p = new Publisher(db.dataSource(), config(www, Duration.ofSeconds(5)),
          new PublishFixture.SettableClock(T0))) {
        assertTrue(p.publishOnce());
        assertEquals(1, read(www.resolve("results/index.json")).path("seq").asLong());
      }
      Files.writeString(seqFile, "garbage\n");
      try (Publisher p = new Publisher(db.dataSource(), cfg, new PublishFixture.SettableClock(T0))) {
        java.io.IOException e = assertThrows(java.io.IOException.class, p::open);
        assertTrue(e.getMessage().contains("does not hold a seq"), e.getMessage());
      }
    }
  }

  @Test
  void aReaderNeverSeesAPartialFileNorASeqGoingBack() throws Exception {
    try (Database db = TestDatabase.fresh("publisher_atomic");
        Publisher p = new Publisher(db.dataSource(), config(dir, Duration.ofMillis(100)), java.time.Clock.systemUTC())) {
      PublishFixture fx = new PublishFixture(db.dataSource());
      fx.commit("n1", new PublishFixture.Batch().vote("b0", "x", 1).canvass(10));
      assertTrue(p.publishOnce());
      p.start();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicLong reads = new AtomicLong();
      AtomicLong valueChecks = new AtomicLong();
      Map<String, Long> lastSeq = new HashMap<>();
      List<String> names = new ArrayList<>(List.of("results/index.json", "results/status.json", "canvass/cells.geojson"));
      for (int i = 0; i < 20; i++) {
        names.add("results/ballot/b" + i + ".json");
      }
      Thread reader = new Thread(() -> {
        try {
          while (!Thread.currentThread().isInterrupted()) {
            for (String n : names) {
              Path f = dir.resolve(n);
              if (!Files.exists(f)) {
                continue;   // a ballot not published yet
              }
              JsonNode j = PublishFixture.JSON.readTree(Files.readAllBytes(f));
              JsonNode z = PublishFixture.JSON.readTree(gunzip(Files.readAllBytes(dir.resolve(n + ".gz"))));
              for (JsonNode doc : List.of(j, z)) {
                long s = doc.path("seq").asLong(-1);
                if (s < 1) {
                  throw new AssertionError(n + ": no seq in " + doc);
                }
                String key = n + (doc == z ? ".gz" : "");
                Long prev = lastSeq.put(key, s);
                if (prev != null && s < prev) {
                  throw new AssertionError(key + ": seq went back from " + prev + " to " + s);
                }
              }
              if (n.equals("results/index.json")) {
                // the values are the database's at the batch the file names
                Map<String, Map<String, Long>> expected = fx.tallyAfter.get(j.path("batches").path("n1").asLong());
                if (expected != null) {
                  Map<String, Map<String, Long>> got = new TreeMap<>();
                  for (JsonNode b : j.path("ballots")) {
                    got.put(b.path("ballot").asText(), choices(b));
                  }
                  if (!got.equals(expected)) {
                    throw new AssertionError("index.json at batch " + j.path("batches") + ": " + got + " != " + expected);
                  }
                  valueChecks.incrementAndGet();
                }
              }
              reads.incrementAndGet();
            }
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }, "reader");
      reader.start();
      long startSeq = p.state().seq();
      // 40 changing cycles take about 6 s on an idle machine; the deadline is for a loaded one
      long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
      int batches = 0;
      // change data until 40 cycles have published something new
      while (p.state().seq() < startSeq + 40 && System.nanoTime() < deadline && failure.get() == null) {
        PublishFixture.Batch b = new PublishFixture.Batch().canvass(3);
        for (int i = 0; i < 20; i++) {
          if ((batches + i) % 3 == 0) {
            b.vote("b" + i, "c" + (batches % 4), 1 + i);
          }
        }
        fx.commit("n1", b);
        batches++;
        long s = p.state().seq();
        long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
        while (p.state().seq() == s && System.nanoTime() < until) {
          java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);   // poll, with a deadline
        }
      }
      reader.interrupt();
      reader.join(10_000);
      if (failure.get() != null) {
        throw new AssertionError("reader saw a bad file after " + reads.get() + " reads", failure.get());
      }
      assertTrue(p.state().seq() >= startSeq + 20, "at least 20 changing cycles within 45 s; got to seq " + p.state().seq());
      assertTrue(reads.get() > 1000, "the reader read often: " + reads.get());
      assertTrue(valueChecks.get() > 100, "index.json checked against the tallies of its batch: " + valueChecks.get());
      assertFalse(p.state().lastError() != null, "no cycle failed: " + p.state().lastError());
      System.out.printf("atomicity: %d batches, %d cycles, seq %d, %d files read by the reader, %d index values checked%n",
          batches, p.state().cycles(), p.state().seq(), reads.get(), valueChecks.get());
    }
  }
}
