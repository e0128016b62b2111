package io.logtail.bench;

import io.logtail.event.CanvassEvent;
import io.logtail.event.EventSink;
import io.logtail.event.LineProcessor;
import io.logtail.event.RejectReason;
import io.logtail.event.VoteEvent;
import io.logtail.parse.LogFormat;
import io.logtail.tail.Source;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Lines per second, on one thread, through {@link LineProcessor} (parse with {@code combined} +
 * beacon decode) into an {@link EventSink} that only feeds a Blackhole.
 *
 * <p>The input is {@value #LINES} realistic {@code combined} lines in one buffer, as the tailer hands
 * them over: about 47% votes, 47% canvass records (visit, intention, followup), 5% ordinary site
 * traffic and 1% bad beacons (each reject kind). Times advance by about a line per 10 ms, so the time
 * cache sees a new second most lines and a new minute now and then, as in a busy log. The score is
 * in lines per second (ops/s, one op = one line).
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * mvn -q -B -o -pl bench -am package -DskipTests \
 *   &amp;&amp; java -jar bench/target/benchmarks.jar ParseDecodeBenchmark -wi 3 -i 5 -f 1 -w 2s -r 2s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class ParseDecodeBenchmark {
  static final int LINES = 8192;

  private byte[] buf;
  private final int[] off = new int[LINES];
  private final int[] len = new int[LINES];
  private LineProcessor processor;
  private Source source;
  private BlackholeSink sink;

  /** Counts of each outcome in the input, for checking the mix (printed at setup). */
  long votes, canvasses, rejects, skipped;

  static final class BlackholeSink implements EventSink {
    Blackhole bh;
    long votes, canvasses, rejects, skipped;

    @Override public void vote(Source s, long start, long end, VoteEvent v) {
      votes++;
      bh.consume(v);
    }

    @Override public void canvass(Source s, long start, long end, CanvassEvent c) {
      canvasses++;
      bh.consume(c);
    }

    @Override public void reject(Source s, long start, long end, RejectReason r, byte[] raw, int o, int l) {
      rejects++;
      bh.consume(r);
    }

    @Override public void skipped(Source s, long start, long end) {
      skipped++;
      bh.consume(end);
    }
  }

  @Setup(Level.Trial)
  public void setup(Blackhole bh) throws InterruptedException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Random r = new Random(20261123);
    long t = 1_763_888_400L; // 2025-11-23T09:00:00Z
    for (int i = 0; i < LINES; i++) {
      if (r.nextInt(100) == 0) {
        t++;
      }
      String line = line(r, i, t + i / 100);
      off[i] = out.size();
      byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
      out.write(b, 0, b.length);
      len[i] = b.length;
      out.write('\n');
    }
    buf = out.toByteArray();
    source = new Source(0x1234, 1, 2, Path.of("/var/log/nginx/access.log"), false);
    sink = new BlackholeSink();
    sink.bh = bh;
    processor = new LineProcessor(LogFormat.COMBINED, sink);
    for (int i = 0; i < LINES; i++) {
      processor.line(source, buf, off[i], len[i], off[i], off[i] + len[i] + 1);
    }
    System.out.printf("%n[mix] %d lines, %d bytes: %d votes, %d canvass, %d skipped, %d rejects%n", LINES,
        buf.length, sink.votes, sink.canvasses, sink.skipped, sink.rejects);
  }

  private static final String[] AGENTS = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "BallotBox/3.2 (firmware 2026.10; model EBX-7)",
  };
  private static final String[] CHOICES = {"alice", "bob", "carol", "dave", "blank"};
  private static final String[] BALLOTS = {"2026-mayor", "2026-council-d4", "2026-referendum-7"};

  private static String hex(Random r, int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append("0123456789abcdef".charAt(r.nextInt(16)));
    }
    return sb.toString();
  }

  private static String coord(Random r, double base) {
    return String.format(java.util.Locale.ROOT, "%.7f", base + r.nextDouble() * 0.05);
  }

  static String line(Random r, int i, long epochSecond) {
    String time = java.time.format.DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", java.util.Locale.ENGLISH)
        .format(java.time.Instant.ofEpochSecond(epochSecond).atOffset(java.time.ZoneOffset.ofHours(1)));
    String ip = "10." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256);
    int p = r.nextInt(100);
    String request;
    int status = 200;
    String agent = AGENTS[r.nextInt(AGENTS.length)];
    if (p < 47) {
      request = "GET /b/vote.gif?ballot=" + BALLOTS[r.nextInt(3)] + "&choice=" + CHOICES[r.nextInt(5)]
          + "&voter=" + hex(r, 64) + (r.nextBoolean() ? "&eid=" + hex(r, 16) : "") + " HTTP/1.1";
      agent = AGENTS[2];
    } else if (p < 94) {
      int k = r.nextInt(3);
      String base = "GET /b/canvass.gif?kind=" + (k == 0 ? "visit" : k == 1 ? "intention" : "followup")
          + "&dwelling=dw-" + r.nextInt(1_000_000) + "&canvasser=c" + r.nextInt(200)
          + "&lat=" + coord(r, 52.49) + "&lon=" + coord(r, 13.38) + "&eid=" + hex(r, 20);
      if (k == 1) {
        base += "&issue=" + (r.nextBoolean() ? "rent" : "transit") + "&stance="
            + (r.nextBoolean() ? "yes" : "undecided");
      } else if (k == 2) {
        base += "&request=Please+call+back+after+6pm%2C+ask+for+Ren%C3%A9e";
      }
      request = base + " HTTP/1.1";
    } else if (p < 99) {
      String[] pages = {"/", "/index.html", "/static/app.3f9a1c.js", "/favicon.ico", "/api/results?ballot=2026-mayor"};
      request = "GET " + pages[r.nextInt(pages.length)] + " HTTP/2.0";
      status = r.nextInt(10) == 0 ? 304 : 200;
    } else {
      String[] bad = {
        "GET /b/vote.gif?ballot=2026-mayor&choice=alice&voter=xyz HTTP/1.1",
        "HEAD /b/vote.gif?ballot=2026-mayor&choice=alice HTTP/1.1",
        "GET /b/canvass.gif?kind=visit&dwelling=d&canvasser=c&lat=123&lon=1&eid=e HTTP/1.1",
        "GET /b/unknown.gif HTTP/1.1",
        "\\x16\\x03\\x01\\x00\\xA5\\x01\\x00\\x00\\xA1\\x03\\x03",
      };
      request = bad[r.nextInt(bad.length)];
    }
    return ip + " - - [" + time + "] \"" + request + "\" " + status + " " + (43 + r.nextInt(3))
        + " \"https://vote.example.org/\" \"" + agent + "\"";
  }

  @Benchmark
  @OperationsPerInvocation(LINES)
  public void parseAndDecode() throws InterruptedException {
    final LineProcessor p = processor;
    final byte[] b = buf;
    final Source s = source;
    for (int i = 0; i < LINES; i++) {
      int o = off[i];
      p.line(s, b, o, len[i], o, o + len[i] + 1);
    }
  }
}
