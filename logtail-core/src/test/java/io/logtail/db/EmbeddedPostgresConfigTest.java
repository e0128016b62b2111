package io.logtail.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresConfigTest {
  @Test
  void defaults() {
    EmbeddedPostgres.Config c = EmbeddedPostgres.builder().dataDir(Path.of("d")).build();
    assertEquals(5433, c.port());
    assertEquals(Path.of("d").toAbsolutePath(), c.dataDir());
    assertEquals(c.dataDir(), c.binariesCacheDir());
    assertEquals("128MB", c.sharedBuffers());
    assertEquals(100, c.maxConnections());
    assertEquals(EmbeddedPostgres.RunAs.AUTO, c.runAs());
  }

  @Test
  void invalidSettingsAreAllNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddedPostgres.builder()
        .port(70000).maxConnections(1).sharedBuffers("lots").startTimeout(Duration.ZERO).build());
    String m = e.getMessage();
    assertTrue(m.contains("dataDir is required"), m);
    assertTrue(m.contains("port must be 1..65535, was 70000") && m.contains("--db-port"), m);
    assertTrue(m.contains("maxConnections"), m);
    assertTrue(m.contains("sharedBuffers"), m);
    assertTrue(m.contains("startTimeout"), m);
  }

  @Test
  void socketDirFallsBackToTmpWhenThePathIsTooLongForASocket() {
    assertEquals(Path.of("/var/lib/logtail/run"), EmbeddedPostgres.socketDir(Path.of("/var/lib/logtail")));
    Path deep = Path.of("/x".repeat(60));
    Path s = EmbeddedPostgres.socketDir(deep);
    assertTrue(s.getFileName().toString().startsWith("logtail-pg-"), s.toString());
    assertEquals(s, EmbeddedPostgres.socketDir(deep), "stable for the same data dir");
  }
}
