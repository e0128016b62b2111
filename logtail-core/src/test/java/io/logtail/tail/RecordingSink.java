package io.logtail.tail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Records every call, and checks the sink contract as calls arrive: per fingerprint, each call
 * starts where the previous one ended (no gap, no overlap), and no range is delivered twice.
 */
class RecordingSink implements LineSink {
  record Call(String kind, long fingerprint, String path, byte[] bytes, long start, long end) {
    String text() {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
  }

  record Truncation(long fingerprint, long readOffset, long bytesAtRisk) {}

  final List<Call> calls = new ArrayList<>();
  final List<Truncation> truncations = new ArrayList<>();
  final List<String> violations = new ArrayList<>();
  int caughtUps;
  /** When >= 0: lines accepted before the next one throws InterruptedException (a pass cut short). */
  int interruptAfter = -1;
  private final Map<Long, Long> lastEnd = new HashMap<>();

  @Override
  public void line(Source source, byte[] buf, int off, int len, long startOffset, long endOffset)
      throws InterruptedException {
    if (interruptAfter == 0) {
      interruptAfter = -1;
      throw new InterruptedException("test: pass cut short");
    }
    if (interruptAfter > 0) interruptAfter--;
    record("line", source, Arrays.copyOfRange(buf, off, off + len), startOffset, endOffset);
    if (endOffset - startOffset != len + 1L) violations.add("length mismatch at " + startOffset);
  }

  @Override
  public void oversizedLine(Source source, byte[] head, int headLen, long startOffset,
      long endOffset) throws InterruptedException {
    record("oversized", source, Arrays.copyOf(head, headLen), startOffset, endOffset);
  }

  @Override
  public void truncated(Source source, long readOffset, long bytesAtRisk) {
    truncations.add(new Truncation(source.fingerprint(), readOffset, bytesAtRisk));
  }

  @Override
  public void caughtUp() {
    caughtUps++;
  }

  void record(String kind, Source s, byte[] bytes, long start, long end) {
    Long prev = lastEnd.get(s.fingerprint());
    if (prev != null && prev != start) {
      violations.add(s.id() + ": call at " + start + " after previous end " + prev);
    }
    lastEnd.put(s.fingerprint(), end);
    calls.add(new Call(kind, s.fingerprint(), s.path().getFileName().toString(), bytes, start, end));
  }

  List<String> lines() {
    return calls.stream().map(Call::text).collect(Collectors.toList());
  }

  List<String> linesOf(long fingerprint) {
    return calls.stream().filter(c -> c.fingerprint() == fingerprint).map(Call::text)
        .collect(Collectors.toList());
  }

  /** The bytes of a stream as delivered, each line with its \n (oversized lines as their head). */
  byte[] contentOf(long fingerprint) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Call c : calls) {
      if (c.fingerprint() != fingerprint) continue;
      out.writeBytes(c.bytes());
      out.write('\n');
    }
    return out.toByteArray();
  }
}
