package io.logtail.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TailerConfigTest {
  @Test
  void defaults() {
    TailerConfig c = new TailerConfig();
    assertEquals(65536, c.maxLineBytes());
    assertEquals(1 << 20, c.readBufferBytes());
    assertEquals(Duration.ofMillis(100), c.pollInterval());
    assertEquals(Duration.ofMinutes(5), c.closeInactive());
  }

  @Test
  void invalidValuesAreRejectedWithTheSettingNamed() {
    TailerConfig c = new TailerConfig();
    assertMessage("maxLineBytes", () -> c.setMaxLineBytes(0));
    assertMessage("readBufferBytes", () -> c.setReadBufferBytes(100));
    assertMessage("pollInterval", () -> c.setPollInterval(Duration.ZERO));
    assertMessage("closeInactive", () -> c.setCloseInactive(Duration.ofSeconds(-1)));
    assertMessage("file-name part", () -> c.addLog("/var/log/*/access.log"));
    assertMessage("empty", () -> c.addLog(" "));
  }

  @Test
  void settingsThatDependOnEachOtherAreCheckedWhenTheTailerIsBuilt() {
    TailerConfig c = new TailerConfig().addLog("/tmp/x.log").setMaxLineBytes(4096)
        .setReadBufferBytes(4096);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Tailer(c, new RecordingSink(), OffsetLookup.NONE));
    assertTrue(e.getMessage().contains("readBufferBytes"), e.getMessage());
    assertMessage("--log", () -> new Tailer(new TailerConfig(), new RecordingSink(), OffsetLookup.NONE));
  }

  @Test
  void frozenOnceATailerIsBuilt() {
    TailerConfig c = new TailerConfig().addLog("/tmp/logtail-config-test/access.log*");
    new Tailer(c, new RecordingSink(), OffsetLookup.NONE).close();
    assertTrue(c.isFrozen());
    assertThrows(IllegalStateException.class, () -> c.setMaxLineBytes(100));
    assertThrows(IllegalStateException.class, () -> c.addLog("/tmp/other.log"));
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable x) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, x);
    assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
  }
}
