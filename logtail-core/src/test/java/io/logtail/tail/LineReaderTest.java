package io.logtail.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A plain file truncated in place and written again between the tailer's check and its read (a
 * copytruncate racing the read): the bytes read are new content at the old offset and must not be
 * delivered as the old stream's lines.
 */
class LineReaderTest {
  @Test
  void bytesReadAfterTheFirstLineChangedAreNotDelivered() throws Exception {
    byte[] content = "a1\na2\na3\n".getBytes(StandardCharsets.US_ASCII);
    boolean[] same = {true};
    ContentInput in = new ContentInput() {
      @Override
      public int read(long pos, byte[] b, int off, int len) {
        int n = (int) Math.max(0, Math.min(len, content.length - pos));
        System.arraycopy(content, (int) pos, b, off, n);
        return n;
      }

      @Override
      public boolean stillSameContent() {
        return same[0];
      }
    };
    List<String> got = new ArrayList<>();
    LineSink sink = new LineSink() {
      @Override
      public void line(Source source, byte[] buf, int off, int len, long start, long end) {
        got.add(new String(buf, off, len, StandardCharsets.US_ASCII));
      }

      @Override
      public void oversizedLine(Source source, byte[] head, int headLen, long start, long end) {}
    };
    LineReader r = new LineReader(4096, 1024, sink);
    TrackedStream s = new TrackedStream(new Source(1, 1, 1, Path.of("access.log"), false), 3);
    same[0] = false;
    assertThrows(Tailer.FileReplacedException.class, () -> r.drain(s, in, 1 << 20));
    assertEquals(List.of(), got, "nothing delivered");
    assertEquals(3, s.readOffset, "the stream's offset did not move");
    same[0] = true;
    r.drain(s, in, 1 << 20);
    assertEquals(List.of("a2", "a3"), got);
  }
}
