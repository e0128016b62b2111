package io.logtail.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogOrderTest {
  record F(String path, long mtime) {}

  private static List<String> sorted(F... files) {
    List<F> l = new ArrayList<>(Arrays.asList(files));
    LogOrder.sort(l, f -> f.path == null ? null : Path.of(f.path), F::mtime);
    return l.stream().map(f -> f.path == null ? "-" : f.path).toList();
  }

  @Test
  void rotationNumberDecidesWhenTheTimesAreEqual() {
    // the kernel's coarse file time: the last write to .1 and the first to the new file in one tick
    assertEquals(List.of("/l/access.log.2.gz", "/l/access.log.1", "/l/access.log"),
        sorted(new F("/l/access.log", 7), new F("/l/access.log.1", 7), new F("/l/access.log.2.gz", 7)));
  }

  @Test
  void rotationNumberDecidesWhenTheClockWasSetBack() {
    assertEquals(List.of("/l/access.log.10.gz", "/l/access.log.2.gz", "/l/access.log.1", "/l/access.log"),
        sorted(new F("/l/access.log", 1_000), new F("/l/access.log.1", 9_000), new F("/l/access.log.2.gz", 5_000),
            new F("/l/access.log.10.gz", 2_000)));
  }

  @Test
  void modificationTimeOrdersDifferentLogs() {
    // access.log's family holds the places of its members in time order (0 and 2), in rotation order
    assertEquals(List.of("/l/access.log.1", "/l/other.log", "/l/access.log"),
        sorted(new F("/l/access.log", 3), new F("/l/other.log", 5), new F("/l/access.log.1", 10)));
    // one name in two directories: two logs
    assertEquals(List.of("/b/access.log", "/a/access.log.1", "/a/access.log"),
        sorted(new F("/a/access.log", 9), new F("/a/access.log.1", 4), new F("/b/access.log", 2)));
  }

  @Test
  void datesAreNotRotationNumbers() {
    // dateformat .%Y%m%d: eight digits, a date; each such file is its own log, ordered by time
    assertEquals(List.of("/l/access.log.20261206", "/l/access.log.20261207", "/l/access.log"),
        sorted(new F("/l/access.log", 30), new F("/l/access.log.20261207", 20), new F("/l/access.log.20261206", 10)));
    assertEquals(new LogOrder.Rotation("/l/access.log.20261207", 0), LogOrder.rotation(Path.of("/l/access.log.20261207.gz")));
    assertEquals(new LogOrder.Rotation("/l/access.log", 12), LogOrder.rotation(Path.of("/l/access.log.12.gz")));
    assertEquals(new LogOrder.Rotation("/l/access.log", 0), LogOrder.rotation(Path.of("/l/access.log.gz")));
    assertEquals(new LogOrder.Rotation("/l/x.", 0), LogOrder.rotation(Path.of("/l/x.")));
  }

  @Test
  void equalTimesAcrossLogsFallBackToThePathAndItemsWithoutAFileGoWhereTheirTimePutsThem() {
    assertEquals(List.of("/l/a.log", "/l/b.log", "-"),
        sorted(new F(null, Long.MAX_VALUE), new F("/l/b.log", 4), new F("/l/a.log", 4)));
  }
}
