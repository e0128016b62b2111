package io.logtail.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusFileTest {
  @TempDir Path dir;

  @Test
  void escapesStrings() {
    StringBuilder b = new StringBuilder();
    StatusFile.str(b, "a\"b\\c\nd\te\u0001f\u2028é");
    assertEquals("\"a\\\"b\\\\c\\nd\\te\\u0001f\\u2028é\"", b.toString());
    b.setLength(0);
    StatusFile.str(b, null);
    assertEquals("null", b.toString());
  }

  @Test
  void writesADocumentBeforeTheWorkerStarts() throws Exception {
    Path p = dir.resolve("sub/worker-status.json");
    try (StatusFile f = new StatusFile(p, () -> null, () -> "starting")) {
      f.start();
      String s = Files.readString(p);
      assertTrue(s.startsWith("{\"pid\":" + ProcessHandle.current().pid() + ",\"written_at\":"), s);
      assertTrue(s.contains("\"state\":\"starting\",\"sources\":[]}"), s);
      assertTrue(!Files.exists(dir.resolve("sub/worker-status.json.tmp")));
    }
  }
}
