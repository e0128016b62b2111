package io.logtail.publish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AtomicFilesTest {
  @TempDir Path dir;
  final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void syncfsIsAvailableOnLinux() {
    // the CI machine is Linux: the batched path must be the one the tests and the benchmark take
    assertTrue(!System.getProperty("os.name").toLowerCase().contains("linux") || FileSystemSync.available());
    assertEquals("syncfs", new AtomicFiles(pool, true).durability());
    assertEquals("fsync", new AtomicFiles(pool, true, false).durability());
    assertEquals("none", new AtomicFiles(pool, false).durability());
  }

  @ParameterizedTest
  @ValueSource(strings = {"syncfs", "fsync", "none"})
  void everyFileAndItsGzipCopyReplaceTheOldOnesAndNoTemporaryFileStays(String mode) throws Exception {
    AtomicFiles files = new AtomicFiles(pool, !mode.equals("none"), mode.equals("syncfs"));
    Path ballots = dir.resolve("ballot");
    Files.createDirectories(ballots);
    for (int round = 0; round < 2; round++) {
      List<AtomicFiles.Pending> out = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        out.add(new AtomicFiles.Pending(ballots.resolve("b" + i + ".json"),
            ("{\"ballot\":" + i + ",\"round\":" + round + "}").getBytes(StandardCharsets.UTF_8)));
      }
      files.write(out, List.of(new AtomicFiles.Pending(dir.resolve("index.json"),
          ("{\"round\":" + round + "}").getBytes(StandardCharsets.UTF_8))));
      for (AtomicFiles.Pending p : out) {
        assertArrayEquals(p.content(), Files.readAllBytes(p.path()));
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(Files.readAllBytes(AtomicFiles.gz(p.path()))))) {
          assertArrayEquals(p.content(), in.readAllBytes());
        }
      }
      assertEquals("{\"round\":" + round + "}", Files.readString(dir.resolve("index.json")));
    }
    try (Stream<Path> all = Files.walk(dir)) {
      assertEquals(List.of(), all.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aFailedWriteLeavesTheOldFilesAndNoTemporaryFile(boolean syncfs) throws Exception {
    AtomicFiles files = new AtomicFiles(pool, true, syncfs);
    Path ok = dir.resolve("ok.json");
    files.write(List.of(new AtomicFiles.Pending(ok, "old".getBytes(StandardCharsets.UTF_8))), List.of());
    // a directory where a file should go: its temporary file cannot be renamed over it
    Files.createDirectories(dir.resolve("taken.json"));
    Files.writeString(dir.resolve("taken.json").resolve("x"), "x");
    Path index = dir.resolve("index.json");
    IOException e = assertThrows(IOException.class, () -> files.write(List.of(
        new AtomicFiles.Pending(dir.resolve("taken.json"), "new".getBytes(StandardCharsets.UTF_8))),
        List.of(new AtomicFiles.Pending(index, "i".getBytes(StandardCharsets.UTF_8)))));
    assertTrue(e.getMessage() != null, e.toString());
    assertEquals("old", Files.readString(ok));
    assertTrue(Files.notExists(index), "the index is written only after every ballot file is in place");
    try (Stream<Path> all = Files.walk(dir)) {
      assertEquals(List.of(), all.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
    }
  }
}
