package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.db.TestDatabase;
import io.logtail.publish.PublishFixture;
import io.logtail.publish.Publisher;
import io.logtail.publish.PublisherConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Last good on error: PostgreSQL is stopped under a running publisher. Every results file stays
 * byte-identical (same inode), status.json says ok:false with stale_since and the error, the status
 * port shows the publisher stale ({@code /status} and {@code /metrics}), the publisher logs one line
 * per distinct failure without a stack trace and keeps its schedule; when PostgreSQL is started again
 * it publishes the new data by itself, without being restarted.
 */
class PublisherOutageIT {
  @TempDir Path dir;

  @Test
  void filesStayWhileTheDatabaseIsDownAndPublishingResumesByItself() throws Exception {
    EmbeddedPostgres.Config pgc = EmbeddedPostgres.builder().dataDir(dir.resolve("pg"))
        .binariesCacheDir(TestDatabase.binariesCacheDir()).port(TestDatabase.freePort()).build();
    EmbeddedPostgres pg = EmbeddedPostgres.start(pgc);
    Path out = dir.resolve("www");
    Logger plog = (Logger) LoggerFactory.getLogger(Publisher.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    plog.addAppender(logged);
    try (Database db = Database.builder(pg.jdbcUrl()).connectionTimeout(Duration.ofSeconds(2)).build()) {
      db.migrate();
      PublishFixture fx = new PublishFixture(db.dataSource());
      fx.commit("n1", new PublishFixture.Batch().vote("city-0", "c0", 5).vote("city-1", "c1", 3).canvass(4));
      try (Database pool = Publisher.openPool(pg.jdbcUrl(), null, null);
          Publisher p = new Publisher(pool.dataSource(), new PublisherConfig(out, Duration.ofMillis(300),
              Duration.ZERO, Duration.ofSeconds(10), 4, true), Clock.systemUTC()).start();
          StatusServer server = StatusServer.start("127.0.0.1:0", null, new StatusServer.Source() {
            @Override
            public JsonNode status() {
              ObjectNode n = JsonNodeFactory.instance.objectNode();
              n.set("publisher", PublisherStatus.json(p, System.currentTimeMillis()));
              return n;
            }

            @Override
            public String unhealthyReason() {
              return null;
            }
          })) {
        int port = server.address().getPort();
        AdminTestSupport.await(Duration.ofSeconds(30), "a first publication",
            () -> p.state().ok() && p.state().seq() >= 1, p::state);
        List<String> files = List.of("results/index.json", "results/ballot/city-0.json", "results/ballot/city-1.json",
            "canvass/cells.geojson");
        Map<String, byte[]> bytes = new TreeMap<>();
        Map<String, Object> keys = new TreeMap<>();
        for (String f : files) {
          for (String g : List.of(f, f + ".gz")) {
            bytes.put(g, Files.readAllBytes(out.resolve(g)));
            keys.put(g, Files.readAttributes(out.resolve(g), BasicFileAttributes.class).fileKey());
          }
        }
        long seq = p.state().seq();

        Instant stoppedAt = Instant.now();
        pg.stop();
        AdminTestSupport.await(Duration.ofSeconds(30), "status.json to say the files are stale", () -> {
          JsonNode s = PublishFixture.read(out.resolve("results/status.json"));
          return !s.path("ok").asBoolean(true) && s.hasNonNull("stale_since") && s.hasNonNull("error");
        }, () -> Files.readString(out.resolve("results/status.json")));
        long failuresAtFirst = p.state().failures();
        // it keeps its schedule: more failed cycles come, each on time, and the files never change
        AdminTestSupport.await(Duration.ofSeconds(40), "five more failed cycles",
            () -> p.state().failures() >= failuresAtFirst + 5, p::state);
        for (Map.Entry<String, byte[]> e : bytes.entrySet()) {
          assertArrayEquals(e.getValue(), Files.readAllBytes(out.resolve(e.getKey())), e.getKey() + " unchanged");
          assertEquals(keys.get(e.getKey()),
              Files.readAttributes(out.resolve(e.getKey()), BasicFileAttributes.class).fileKey(), e.getKey() + " not rewritten");
        }
        JsonNode st = PublishFixture.read(out.resolve("results/status.json"));
        assertEquals(seq, st.path("seq").asLong());
        Instant staleSince = Instant.parse(st.path("stale_since").asText());
        assertFalse(staleSince.isBefore(stoppedAt.minusSeconds(1)), "stale since the first failed cycle: " + staleSince);
        assertFalse(st.path("error").asText().contains("\n"), "one line");
        assertTrue(Instant.parse(st.path("checked_at").asText()).isAfter(staleSince), "the heartbeat goes on");

        JsonNode ps = AdminTestSupport.status(port).path("publisher");
        assertFalse(ps.path("ok").asBoolean(true), ps.toString());
        assertTrue(ps.path("stale_s").asDouble() > 0, ps.toString());
        assertTrue(ps.hasNonNull("last_error"), ps.toString());
        assertEquals(seq, ps.path("seq").asLong());
        assertTrue(ps.path("last_success_at").asLong() > 0, ps.toString());
        assertTrue(ps.path("last_cycle_ms").asDouble() >= 0, ps.toString());
        String metrics = AdminTestSupport.get(port, "/metrics", null).body();
        assertTrue(metrics.contains("logtail_publisher_ok 0.0"), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("logtail_publisher_stale_seconds ")
            && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) > 0), metrics);

        List<ILoggingEvent> warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertTrue(warnings.size() >= 1 && warnings.size() <= 3,
            "one line per distinct failure, not one per cycle: " + warnings.size() + " for " + p.state().failures()
                + " failed cycles: " + warnings);
        for (ILoggingEvent w : warnings) {
          assertNull(w.getThrowableProxy(), "no stack trace");
        }

        pg = EmbeddedPostgres.start(pgc);
        fx.commit("n1", new PublishFixture.Batch().vote("city-0", "c0", 2));
        AdminTestSupport.await(Duration.ofSeconds(60), "publishing to resume by itself",
            () -> p.state().ok() && PublishFixture.read(out.resolve("results/ballot/city-0.json")).path("votes").asLong() == 7,
            p::state);
        JsonNode after = PublishFixture.read(out.resolve("results/status.json"));
        assertTrue(after.path("ok").asBoolean(), after.toString());
        assertTrue(after.path("stale_since").isNull(), after.toString());
        assertTrue(PublishFixture.read(out.resolve("results/index.json")).path("seq").asLong() > seq);
        assertTrue(AdminTestSupport.status(port).path("publisher").path("ok").asBoolean());
        assertTrue(logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("publishing again")));
      }
    } finally {
      plog.detachAppender(logged);
      pg.stop();
    }
  }
}
