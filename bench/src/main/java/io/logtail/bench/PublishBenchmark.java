package io.logtail.bench;

import io.logtail.db.Database;
import io.logtail.db.EmbeddedPostgres;
import io.logtail.publish.Publisher;
import io.logtail.publish.PublisherConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One publishing cycle ({@link Publisher#publishOnce()}: the snapshot query, rendering, gzip, the
 * atomic writes with their fsyncs) against a real PostgreSQL (embedded, under
 * {@code target/publish-bench/}, on a free port), in milliseconds per cycle (SingleShotTime: each
 * iteration is one cycle, after a set-up that commits what the cycle will publish).
 *
 * <p>Data: {@code ballots} ballots ({@code city-0}...; one per city of a municipal election night) of 3
 * choices each, 200 votes per ballot from 2 nodes, a roll ({@code '*'}), a duplicate row per ballot,
 * and 50,000 rejects (raw lines naming a ballot); {@code records} canvass records spread evenly over
 * {@code area} × {@code area} cells of 0.001°.
 * <ul>
 *   <li>{@code changed=5000}: before each cycle one batch adds a vote to every ballot: all
 *       {@code ballots} ballot files, their .gz and the index are rewritten (the election-night case:
 *       in 5 s every city gets votes); {@code changed=500}: to 500 random ballots;</li>
 *   <li>{@code changed=0}: nothing committed between cycles: only status.json is written;</li>
 *   <li>{@code cells=true}: the canvass cells are read and written in every cycle (one record added
 *       per cycle), {@code false}: they are not due (the default --publish-cells-interval of 30 s
 *       leaves 5 cycles of 6 without them).</li>
 * </ul>
 * Command (docs/benchmarks.md, "Publisher"):
 * <pre>
 * mvn -q -B -o -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar PublishBenchmark -p records=0 -f 1 -wi 3 -i 10
 * java -jar bench/target/benchmarks.jar PublishBenchmark -p records=1000000 -p changed=0 -f 1 -wi 2 -i 5
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(1)
@State(Scope.Benchmark)
public class PublishBenchmark {
  @Param({"5000"}) int ballots;
  /** Ballots that get a vote before each cycle (their files and the index are rewritten). */
  @Param({"5000", "500", "0"}) int changed;
  @Param({"false", "true"}) boolean cells;
  @Param({"0"}) int records;
  @Param({"100"}) int area;
  @Param({"8"}) int writeThreads;
  @Param({"true"}) boolean fsync;
  /** Where the files go: {@code disk} (target/publish-bench/www) or {@code tmpfs} (/dev/shm/logtail-publish-bench). */
  @Param({"disk"}) String fs;

  /** This JVM's CPU time (user + system, all threads): the publisher's cost apart from the machine's load. */
  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private EmbeddedPostgres pg;
  private Database db;
  private Database pool;
  private Publisher publisher;
  private Path out;
  private long batch = 1;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Path base = Path.of("target/publish-bench").toAbsolutePath();
    pg = EmbeddedPostgres.builder().dataDir(base.resolve("pg")).port(freePort()).start();
    try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS publish_bench WITH (FORCE)");
      st.execute("CREATE DATABASE publish_bench");
    }
    db = Database.builder(pg.jdbcUrl("publish_bench")).build();
    db.migrate();
    load();
    out = fs.equals("tmpfs") ? Path.of("/dev/shm/logtail-publish-bench") : base.resolve("www");
    deleteTree(out);
    pool = Publisher.openPool(pg.jdbcUrl("publish_bench"), null, null);
    publisher = new Publisher(pool.dataSource(), new PublisherConfig(out, Duration.ofSeconds(5),
        cells ? Duration.ZERO : Duration.ofDays(1), Duration.ofSeconds(60), writeThreads, fsync), Clock.systemUTC()).open();
    if (!publisher.publishOnce()) {   // the first cycle writes everything (and the cells, once)
      throw new IllegalStateException("first cycle failed: " + publisher.state().lastError());
    }
    System.out.printf("%nfirst cycle (every file): %.1f ms, %d files, %d cells%n", publisher.state().lastCycleMs(),
        publisher.state().filesWritten(), publisher.state().cells());
  }

  private void load() throws SQLException {
    try (Connection c = db.connection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO nodes (name) VALUES ('node-a'), ('node-b')");
      st.execute("INSERT INTO ballot_keys (ballot) SELECT 'city-' || i FROM generate_series(0, " + (ballots - 1) + ") i");
      st.execute("INSERT INTO vote_tally_parts (node_id, ballot_id, choice, votes)"
          + " SELECT n.node_id, k.ballot_id, 'c' || ch, 30 + (k.ballot_id * 7 + ch * 13) % 41"
          + " FROM ballot_keys k, nodes n, generate_series(0, 2) ch");
      st.execute("INSERT INTO voter_roll_scopes (scope, voters) VALUES ('*', 10000000)");
      st.execute("INSERT INTO vote_duplicate_rows SELECT ballot_id, decode(lpad(to_hex(ballot_id), 64, '0'), 'hex'), 2,"
          + " now(), now() FROM ballot_keys");
      st.execute("INSERT INTO rejects (node_id, source_id, line_offset, reason, raw)"
          + " SELECT 1, 1, i, CASE WHEN i % 2 = 0 THEN 'bad_voter' ELSE 'unknown_choice' END,"
          + " convert_to('127.0.0.1 - - [06/Dec/2026:22:00:00 +0000] \"GET /b/vote.gif?ballot=city-' || (i % " + ballots
          + ") || '&choice=c9&voter=zz HTTP/1.1\" 200 43 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\"', 'UTF8')"
          + " FROM generate_series(1, 50000) i");
      if (records > 0) {
        // spread evenly over area x area cells of 0.001° (area 100: a 0.1° square, about a city's)
        st.execute("INSERT INTO canvass_records (eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat, cell_lon,"
            + " issue, stance, request, recorded_at, node_id, source_id, line_offset)"
            + " SELECT 'e' || i, (ARRAY['visit','intention','followup'])[1 + i % 3], 'd' || i, 'c' || (i % 500), 0, 0,"
            + " 48800 + i % " + area + ", 2300 + (i / " + area + ") % " + area + ","
            + " CASE WHEN i % 3 = 1 THEN (ARRAY['parks','tram','taxes'])[1 + i % 9 / 3] END,"
            + " CASE WHEN i % 3 = 1 THEN (ARRAY['yes','no','undecided'])[1 + (i / 3) % 3] END,"
            + " NULL, now(), 1, 1, i FROM generate_series(1, " + records + ") i");
      }
      st.execute("INSERT INTO batches (node_id, batch_id, lines, votes, duplicates, retransmits, canvass, resends,"
          + " rejects, skipped) SELECT node_id, 1, 0, 0, 0, 0, 0, 0, 0, 0 FROM nodes");
      st.execute("VACUUM ANALYZE");
    }
  }

  /** What the next cycle publishes: a batch that adds a vote to every ballot, and a canvass record. */
  @Setup(Level.Iteration)
  public void commitBatch() throws SQLException {
    if (changed == 0) {
      return;
    }
    batch++;
    try (Connection c = db.connection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("UPDATE vote_tally_parts SET votes = votes + 1 WHERE node_id = 1 AND choice = 'c0'"
            + (changed >= ballots ? "" : " AND ballot_id IN (SELECT ballot_id FROM ballot_keys ORDER BY random() LIMIT "
                + changed + ")"));
        st.execute("INSERT INTO canvass_records (eid, kind, dwelling, canvasser, lat_e7, lon_e7, cell_lat, cell_lon,"
            + " recorded_at, node_id, source_id, line_offset) VALUES ('b" + batch + "', 'visit', 'd', 'c', 0, 0, 48800,"
            + " 2300, now(), 1, 2, " + batch + ")");
        st.execute("INSERT INTO batches (node_id, batch_id, lines, votes, duplicates, retransmits, canvass, resends,"
            + " rejects, skipped) VALUES (1, " + batch + ", 0, 0, 0, 0, 0, 0, 0, 0)");
      }
      c.commit();
    }
  }

  @Benchmark
  public boolean cycle() throws IOException {
    long cpu0 = CPU.getProcessCpuTime();
    boolean ok = publisher.publishOnce();
    System.out.printf(" [query %.0f ms, write %.0f ms, publisher CPU %.0f ms] ", publisher.state().lastQueryMs(),
        publisher.state().lastWriteMs(), (CPU.getProcessCpuTime() - cpu0) / 1e6);
    if (!ok) {
      throw new IllegalStateException("cycle failed: " + publisher.state().lastError());
    }
    return ok;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    System.out.printf("%nlast cycle %.1f ms; seq %d; %d files written; %d cells%n", publisher.state().lastCycleMs(),
        publisher.state().seq(), publisher.state().filesWritten(), publisher.state().cells());
    publisher.close();
    pool.close();
    db.close();
    pg.stop();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (Files.exists(p)) {
      try (Stream<Path> w = Files.walk(p)) {
        for (Path q : w.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(q);
        }
      }
    }
  }
}
