package io.logtail.tail;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random appends of random lines (random bytes, some oversized) in random chunk sizes, random polls
 * and time steps, random logrotate-style rotations (rename + create with shifting of the rotated
 * names, copytruncate), compression of rotated files and deletion of old ones: for every generation
 * of the log, the delivered lines concatenated equal its content exactly, delivered once.
 */
class TailerPropertyTest {
  static final int MAX_LINE = 512;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TailerPropertyTest.class);

  @TempDir Path dir;

  /** One stream: the content the live file had from its creation (or truncation) to its rotation. */
  static final class Gen {
    final int id;
    final ByteArrayOutputStream content = new ByteArrayOutputStream();
    Gen(int id) {
      this.id = id;
    }
    long fingerprint() {
      byte[] c = content.toByteArray();
      int len = Fingerprint.identifyingLength(c, c.length);
      return Fingerprint.xxHash64(c, 0, len);
    }
  }

  final FakeTicker ticker = new FakeTicker();
  final RecordingSink sink = new RecordingSink();
  Random rnd;
  Tailer tailer;
  final List<Gen> gens = new ArrayList<>();
  final Map<String, Gen> rotated = new HashMap<>(); // rotated file name -> its generation
  Gen live;
  byte[] pending; // rest of the line being written, null between lines
  int pendingPos;
  int seq;
  final List<String> actions = new ArrayList<>();

  /** 12 seeds by default; {@code -Dlogtail.propertySeeds=500} for a longer hunt. */
  static java.util.stream.LongStream seeds() {
    return java.util.stream.LongStream.rangeClosed(1, Long.getLong("logtail.propertySeeds", 12));
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void deliveredLinesEqualTheContentOfEveryGeneration(long seed) throws Exception {
    rnd = new Random(seed);
    bufferBytes = 1024 + rnd.nextInt(2048);
    tailer = newTailer(OffsetLookup.NONE);
    try {
      newLiveGen();
      Files.write(path("access.log"), new byte[0]);
      for (int step = 0; step < 1500; step++) {
        int r = rnd.nextInt(100);
        if (r < 58) writeChunk();
        else if (r < 73) poll();
        else if (r < 83) rotate();
        else if (r < 91) compressOne();
        else if (r < 98) deleteOldest();
        else restart();
      }
      while (pending != null) writeChunk();
      finishGzip();
      for (int i = 0; i < 5; i++) {
        ticker.advance(Duration.ofMinutes(1));
        while (tailer.pollOnce() > 0) { /* drain */ }
      }
      check();
      log.debug("seed " + seed + " gens " + gens.size() + " calls " + sink.calls.size()
          + " truncations " + sink.truncations.size() + " fromGz "
          + sink.calls.stream().filter(x -> x.path().endsWith(".gz")).count() + " oversized "
          + sink.calls.stream().filter(x -> x.kind().equals("oversized")).count());
    } finally {
      tailer.close();
    }
  }

  int bufferBytes;
  String gzBeingWritten; // a .gz half written by "gzip", its plain file not yet removed
  byte[] gzRest;

  Tailer newTailer(OffsetLookup lookup) {
    TailerConfig c = new TailerConfig().setTicker(ticker).addLog(dir.resolve("access.log*").toString())
        .setMaxLineBytes(MAX_LINE).setReadBufferBytes(bufferBytes)
        .setCloseInactive(Duration.ofMinutes(2));
    return new Tailer(c, sink, lookup);
  }

  /** A new process: resumes each stream where the previous one delivered it (all committed). */
  void restart() {
    tailer.close();
    Map<Long, Long> committed = new HashMap<>();
    for (RecordingSink.Call c : sink.calls) committed.put(c.fingerprint(), c.end());
    tailer = newTailer(fp -> committed.getOrDefault(fp, 0L));
    actions.add("restart");
  }

  Path path(String name) {
    return dir.resolve(name);
  }

  void newLiveGen() {
    live = new Gen(gens.size());
    gens.add(live);
    seq = 0;
  }

  void writeChunk() throws IOException {
    if (pending == null) {
      int len = rnd.nextInt(10) == 0 ? MAX_LINE + rnd.nextInt(3000) : rnd.nextInt(120);
      byte[] prefix = ("g" + live.id + "-" + seq++ + " ").getBytes(StandardCharsets.US_ASCII);
      byte[] line = new byte[prefix.length + len + 1];
      System.arraycopy(prefix, 0, line, 0, prefix.length);
      for (int i = prefix.length; i < line.length - 1; i++) {
        byte x = (byte) rnd.nextInt(256);
        line[i] = x == '\n' ? (byte) 0xC3 : x;
      }
      line[line.length - 1] = '\n';
      pending = line;
      pendingPos = 0;
    }
    int n = 1 + rnd.nextInt(Math.min(pending.length - pendingPos, rnd.nextInt(4) == 0 ? 8 : 4000));
    Files.write(path("access.log"), Arrays.copyOfRange(pending, pendingPos, pendingPos + n),
        StandardOpenOption.APPEND);
    live.content.write(pending, pendingPos, n);
    pendingPos += n;
    if (pendingPos == pending.length) pending = null;
  }

  void poll() throws InterruptedException {
    ticker.advance(Duration.ofSeconds(rnd.nextInt(90)));
    for (int i = rnd.nextInt(3); i >= 0; i--) tailer.pollOnce();
    actions.add("poll " + ticker.nanos() / 1_000_000_000L);
  }

  /** logrotate: shift access.log.N[.gz] to N+1, then rename (nginx reopen) or copytruncate. */
  void rotate() throws IOException {
    if (pending != null || live.content.size() == 0) return; // nginx writes whole lines
    finishGzip();
    List<Integer> ns = new ArrayList<>();
    for (String name : rotated.keySet()) ns.add(number(name));
    ns.sort((a, b) -> b - a);
    for (int n : ns) {
      String from = nameOf(n);
      String to = from.replace("access.log." + n, "access.log." + (n + 1));
      Files.move(path(from), path(to));
      rotated.put(to, rotated.remove(from));
    }
    boolean rename = rnd.nextBoolean();
    actions.add((rename ? "rename " : "copytruncate ") + live.id + " shifted " + ns);
    if (rename) {
      Files.move(path("access.log"), path("access.log.1"));
      Files.write(path("access.log"), new byte[0]);
    } else {
      Files.copy(path("access.log"), path("access.log.1"));
      try (FileChannel ch = FileChannel.open(path("access.log"), StandardOpenOption.WRITE)) {
        ch.truncate(0);
      }
    }
    rotated.put("access.log.1", live);
    newLiveGen();
  }

  String nameOf(int n) {
    String plain = "access.log." + n;
    return rotated.containsKey(plain) ? plain : plain + ".gz";
  }

  static int number(String name) {
    String rest = name.substring("access.log.".length());
    return Integer.parseInt(rest.endsWith(".gz") ? rest.substring(0, rest.length() - 3) : rest);
  }

  /**
   * gzip a rotated plain file (mostly with delaycompress: not .1), sometimes in two steps with the
   * half-written .gz visible in between; the plain file is removed once the .gz is complete.
   */
  void compressOne() throws IOException {
    if (gzBeingWritten != null) {
      finishGzip();
      return;
    }
    boolean delay = rnd.nextInt(3) > 0;
    for (String name : new ArrayList<>(rotated.keySet())) {
      if (name.endsWith(".gz") || (delay && name.equals("access.log.1"))) continue;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        gz.write(Files.readAllBytes(path(name)));
      }
      byte[] all = out.toByteArray();
      int half = rnd.nextBoolean() ? all.length : rnd.nextInt(all.length);
      Files.write(path(name + ".gz"), Arrays.copyOf(all, half));
      gzBeingWritten = name;
      gzRest = Arrays.copyOfRange(all, half, all.length);
      if (half == all.length) finishGzip();
      return;
    }
  }

  void finishGzip() throws IOException {
    if (gzBeingWritten == null) return;
    String name = gzBeingWritten;
    Files.write(path(name + ".gz"), gzRest, StandardOpenOption.APPEND);
    Files.delete(path(name));
    actions.add("compress " + name + " gen " + rotated.get(name).id);
    rotated.put(name + ".gz", rotated.remove(name));
    gzBeingWritten = null;
  }

  /** Deletes the oldest rotated file, once all of it was delivered (as logrotate's rotate N). */
  void deleteOldest() throws IOException {
    if (gzBeingWritten != null) return;
    String oldest = null;
    for (String name : rotated.keySet()) {
      if (oldest == null || number(name) > number(oldest)) oldest = name;
    }
    if (oldest == null) return;
    Gen g = rotated.get(oldest);
    if (deliveredBytes(g.fingerprint()) < g.content.size()) return;
    Files.delete(path(oldest));
    actions.add("delete " + oldest + " gen " + g.id);
    rotated.remove(oldest);
  }

  long deliveredBytes(long fp) {
    long n = 0;
    for (RecordingSink.Call c : sink.calls) {
      if (c.fingerprint() == fp) n = c.end();
    }
    return n;
  }

  void check() {
    assertEquals(List.of(), sink.violations);
    Set<Long> fps = new HashSet<>();
    for (Gen g : gens) {
      byte[] expected = g.content.toByteArray();
      if (expected.length == 0) continue;
      long fp = g.fingerprint();
      fps.add(fp);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      for (RecordingSink.Call c : sink.calls) {
        if (c.fingerprint() != fp) continue;
        assertEquals(got.size(), c.start(), "gen " + g.id + ": calls contiguous from 0");
        if (c.kind().equals("line")) {
          got.writeBytes(c.bytes());
          got.write('\n');
        } else {
          int s = (int) c.start();
          int e = (int) c.end();
          assertTrue(e - s - 1 > MAX_LINE, "only long lines are oversized");
          byte[] head = Arrays.copyOfRange(expected, s, s + Math.min(2048, e - s - 1));
          assertArrayEquals(head, c.bytes(), "gen " + g.id + ": head of oversized line at " + s);
          got.write(expected, s, e - s);
        }
      }
      assertArrayEquals(expected, got.toByteArray(), () -> "gen " + g.id + " of " + gens.size()
          + "; last actions " + actions.subList(Math.max(0, actions.size() - 25), actions.size()));
    }
    for (RecordingSink.Call c : sink.calls) {
      assertTrue(fps.contains(c.fingerprint()), () -> "a call for a stream that was never written: "
          + c.path() + " " + c.start() + ".." + c.end() + " " + c.kind() + " "
          + c.text().substring(0, Math.min(40, c.text().length())) + " fp " + Long.toHexString(c.fingerprint()));
    }
  }
}
