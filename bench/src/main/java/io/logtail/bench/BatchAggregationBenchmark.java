package io.logtail.bench;

import io.logtail.aggregate.Batch;
import io.logtail.aggregate.BatchBuilder;
import io.logtail.aggregate.BatchPool;
import io.logtail.aggregate.Registry;
import io.logtail.event.LineProcessor;
import io.logtail.flush.BatchPlan;
import io.logtail.flush.KeyBloom;
import io.logtail.flush.KeyHints;
import io.logtail.flush.KeySet;
import io.logtail.gen.LogGenerator;
import io.logtail.parse.LogFormat;
import io.logtail.tail.Source;
import io.logtail.util.Ticker;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The aggregation stage, on one thread, in lines per second (ops/s, one op = one line) over a batch of
 * {@value #LINES} lines of the bench's generated log (seed 42, default mix: about 50 % votes, 49 %
 * canvass records, duplicates and re-sends):
 *
 * <ul>
 *   <li>{@code build}: parse + decode + batch building (rows encoded as binary COPY data), as the
 *       tailer thread does, with an in-memory registry;</li>
 *   <li>{@code plan}: the flusher's in-memory dedupe of a built batch ({@link BatchPlan}: walk the
 *       COPY rows, group votes by (ballot, voter) and canvass records by eid, check the hints, route
 *       and classify every row, aggregate tallies), with hints that hold the keys of earlier batches
 *       (so some keys are found hinted, as in a long run).</li>
 * </ul>
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * mvn -q -B -o -pl bench -am package -DskipTests \
 *   &amp;&amp; java -jar bench/target/benchmarks.jar BatchAggregationBenchmark -wi 3 -i 5 -f 1 -w 2s -r 2s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class BatchAggregationBenchmark {
  static final int LINES = 50_000;

  private byte[] buf;
  private final int[] off = new int[LINES];
  private final int[] len = new int[LINES];
  private final Source source = new Source(0x1234, 1, 2, Path.of("/var/log/nginx/access.log"), false);
  private BatchPool pool;
  private BatchBuilder builder;
  private LineProcessor processor;
  private Batch built;
  private BatchPlan plan;
  private KeyBloom voteHints;
  private KeyBloom canvassHints;
  private final KeyHints prev = new KeyHints(17);
  private final KeyHints next = new KeyHints(17);

  /** Ids from maps: no database. */
  static final class MemoryRegistry implements Registry {
    private final Map<String, Integer> ballots = new HashMap<>();

    @Override public int sourceId(Source s) {
      return 1;
    }

    @Override public int ballotId(String ballot) {
      return ballots.computeIfAbsent(ballot, b -> ballots.size() + 1);
    }

    @Override public boolean referenceDataLoaded() {
      return false;
    }
  }

  @Setup(Level.Trial)
  public void setup() throws Exception {
    LogGenerator gen = new LogGenerator(42, new LogGenerator.Mix());
    // skip ahead, so that this batch holds keys of earlier ones (duplicates across batches)
    MemoryRegistry registry = new MemoryRegistry();
    pool = new BatchPool(3, 1 << 20);
    builder = new BatchBuilder(pool, registry, 1, LINES, 512L << 20, Long.MAX_VALUE, Ticker.system());
    processor = new LineProcessor(LogFormat.COMBINED, builder);
    plan = new BatchPlan();
    voteHints = new KeyBloom(23);
    canvassHints = new KeyBloom(22);
    for (int k = 0; k < 8; k++) { // eight earlier batches fill the hints; the ninth is measured
      load(gen);
      built = buildOnce();
      plan.group(built, voteHints, canvassHints, prev, prev, next, next);
      pool.recycle(built);
    }
    load(gen);
    built = buildOnce();
  }

  private void load(LogGenerator gen) {
    ByteArrayOutputStream bo = new ByteArrayOutputStream(LINES * 220);
    for (int i = 0; i < LINES; i++) {
      byte[] l = gen.nextLine().getBytes(StandardCharsets.UTF_8);
      off[i] = bo.size();
      len[i] = l.length - 1; // without the newline
      bo.write(l, 0, l.length);
    }
    buf = bo.toByteArray();
  }

  private Batch buildOnce() throws Exception {
    // the builder ramps its first batches up; hand over until a whole batch of LINES is built
    long pos = 0;
    Batch whole = null;
    for (int i = 0; i < LINES; i++) {
      processor.line(source, buf, off[i], len[i], pos, pos + len[i] + 1);
      pos += len[i] + 1;
      Batch b = pool.pollFull(0, TimeUnit.SECONDS);
      if (b != null && b.lines() == LINES) {
        whole = b;
      } else if (b != null) {
        pool.recycle(b);
      }
    }
    builder.handOff();
    Batch rest = pool.pollFull(0, TimeUnit.SECONDS);
    if (whole != null) {
      if (rest != null) {
        pool.recycle(rest);
      }
      return whole;
    }
    return rest;
  }

  @Benchmark
  @OperationsPerInvocation(LINES)
  public int build() throws Exception {
    long pos = 0;
    for (int i = 0; i < LINES; i++) {
      processor.line(source, buf, off[i], len[i], pos, pos + len[i] + 1);
      pos += len[i] + 1;
    }
    builder.handOff();
    Batch b = pool.pollFull(1, TimeUnit.SECONDS);
    int n = b.lines();
    pool.recycle(b);
    return n;
  }

  @Benchmark
  @OperationsPerInvocation(LINES)
  public int plan() {
    // the hints are checked but not changed (the measured batch stays new to them), and there is no
    // previous batch in flight
    plan.group(built, readOnly(voteHints), readOnly(canvassHints), empty, empty, next, next);
    plan.resolveVotes();
    plan.resolveCanvass();
    return plan.fastVotes() + plan.fastCanvass();
  }

  private final KeyHints empty = new KeyHints(4);

  private static KeySet readOnly(KeySet s) {
    return new KeySet() {
      @Override public boolean contains(long h) {
        return s.contains(h);
      }

      @Override public void add(long h) {
      }
    };
  }
}
