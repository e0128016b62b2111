package io.logtail.publish;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The publisher's settings, validated when built (docs/config-reference.md lists the options:
 * {@code --publish-dir}, {@code --publish-interval}, {@code --publish-cells-interval}).
 *
 * @param dir the directory nginx serves; the publisher writes {@code results/} and {@code canvass/} in it
 * @param interval time between the starts of two cycles
 * @param cellsInterval the canvass cells (a scan of all canvass records) are read at most this often,
 *     and never more often than {@code interval}
 * @param statementTimeout longest a query may run before the cycle fails
 * @param writeThreads threads that write and fsync the files of one cycle together
 * @param fsync whether each file is fsynced before its rename (and each directory after); without, a
 *     reader still never sees a partial file, but after a power loss a file may be empty or old until
 *     the first cycle after the restart rewrites it (docs/results.md, "Durability")
 * @param seqFile where the largest seq used is kept, durably, outside {@code dir}, or null: with the files on
 *     a tmpfs (lost at a reboot) seq would otherwise start again from 0 (docs/results.md, "On tmpfs")
 */
public record PublisherConfig(Path dir, Duration interval, Duration cellsInterval, Duration statementTimeout,
    int writeThreads, boolean fsync, Path seqFile) {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  public static final Duration DEFAULT_CELLS_INTERVAL = Duration.ofSeconds(30);

  public PublisherConfig {
    List<String> problems = new ArrayList<>();
    if (dir == null) {
      problems.add("--publish-dir is required");
    }
    if (interval == null || interval.toMillis() < 100 || interval.compareTo(Duration.ofHours(1)) > 0) {
      problems.add("--publish-interval must be 100ms..1h, was " + interval);
    }
    if (cellsInterval == null || cellsInterval.isNegative() || cellsInterval.compareTo(Duration.ofDays(1)) > 0) {
      problems.add("--publish-cells-interval must be 0..24h, was " + cellsInterval);
    }
    if (statementTimeout == null || statementTimeout.toMillis() < 100) {
      problems.add("statement timeout must be at least 100 ms, was " + statementTimeout);
    }
    if (writeThreads < 1 || writeThreads > 64) {
      problems.add("write threads must be 1..64, was " + writeThreads);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("Invalid publisher settings: " + String.join("; ", problems));
    }
    dir = dir.toAbsolutePath().normalize();
    if (seqFile != null) {
      seqFile = seqFile.toAbsolutePath().normalize();
      if (seqFile.startsWith(dir)) {
        throw new IllegalArgumentException("Invalid publisher settings: --publish-seq-file " + seqFile
            + " must be outside --publish-dir " + dir + " (it is what survives when that directory does not)");
      }
    }
  }

  /** Without a seq file: seq is read back from the published files only. */
  public PublisherConfig(Path dir, Duration interval, Duration cellsInterval, Duration statementTimeout,
      int writeThreads, boolean fsync) {
    this(dir, interval, cellsInterval, statementTimeout, writeThreads, fsync, null);
  }

  /** The same settings with the largest seq kept in {@code file} too (null: none). */
  public PublisherConfig withSeqFile(Path file) {
    return new PublisherConfig(dir, interval, cellsInterval, statementTimeout, writeThreads, fsync, file);
  }

  /** The defaults for {@code dir}: 5 s, cells every 30 s, statements up to 30 s, 8 write threads, fsync. */
  public static PublisherConfig of(Path dir) {
    return of(dir, DEFAULT_INTERVAL, DEFAULT_CELLS_INTERVAL);
  }

  public static PublisherConfig of(Path dir, Duration interval, Duration cellsInterval) {
    return of(dir, interval, cellsInterval, true);
  }

  public static PublisherConfig of(Path dir, Duration interval, Duration cellsInterval, boolean fsync) {
    Duration timeout = interval == null ? Duration.ofSeconds(30)
        : (interval.multipliedBy(4).compareTo(Duration.ofSeconds(30)) > 0 ? interval.multipliedBy(4) : Duration.ofSeconds(30));
    return new PublisherConfig(dir, interval, cellsInterval, timeout, 8, fsync);
  }
}
