package io.logtail.tail;

import io.logtail.util.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link Tailer}. Each setter validates its value at once and throws
 * {@link IllegalArgumentException} with a message naming the setting; settings that depend on each
 * other are checked by {@link #validate()} when the tailer is built. Once a tailer has been built
 * from it the config is frozen (HikariCP style): every setter then throws
 * {@link IllegalStateException}, so what the tailer runs with is what the status shows.
 */
public final class TailerConfig {
  /** A line head handed to {@link LineSink#oversizedLine} holds at most this many bytes. */
  public static final int OVERSIZED_HEAD_BYTES = 2048;

  private final List<String> logs = new ArrayList<>();
  private int maxLineBytes = 65536;
  private int readBufferBytes = 1 << 20;
  private Duration pollInterval = Duration.ofMillis(100);
  private Duration closeInactive = Duration.ofMinutes(5);
  private Ticker ticker = Ticker.system();
  private volatile boolean frozen;

  /**
   * Adds a file to tail ({@code --log PATH}, repeatable). The file-name part may be a glob
   * ({@code *}, {@code ?}, {@code [..]}, {@code {a,b}}), e.g. {@code /var/log/nginx/access.log*};
   * the directory part must be literal. Relative paths are resolved against the working directory.
   */
  public TailerConfig addLog(String pathOrGlob) {
    checkNotFrozen();
    LogGlob.parse(pathOrGlob); // validates
    logs.add(pathOrGlob);
    return this;
  }

  /** Lines longer than this (without their {@code \n}) are skipped and reported as oversized. */
  public TailerConfig setMaxLineBytes(int maxLineBytes) {
    checkNotFrozen();
    if (maxLineBytes < 1 || maxLineBytes > (64 << 20)) {
      throw new IllegalArgumentException(
          "maxLineBytes must be between 1 and 67108864 (64 MiB), got " + maxLineBytes);
    }
    this.maxLineBytes = maxLineBytes;
    return this;
  }

  /** The one read buffer reused for every file; must be larger than {@code maxLineBytes}. */
  public TailerConfig setReadBufferBytes(int readBufferBytes) {
    checkNotFrozen();
    if (readBufferBytes < 1024 || readBufferBytes > (256 << 20)) {
      throw new IllegalArgumentException(
          "readBufferBytes must be between 1024 and 268435456 (256 MiB), got " + readBufferBytes);
    }
    this.readBufferBytes = readBufferBytes;
    return this;
  }

  /** How long {@link Tailer#run()} waits when a pass found nothing new. */
  public TailerConfig setPollInterval(Duration pollInterval) {
    checkNotFrozen();
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.compareTo(Duration.ofMillis(1)) < 0
        || pollInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException(
          "pollInterval must be between 1 ms and 1 min, got " + pollInterval);
    }
    this.pollInterval = pollInterval;
    return this;
  }

  /**
   * How long a file that is no longer matched by any glob (renamed away or deleted) is kept open
   * after it stopped growing and everything readable was read.
   */
  public TailerConfig setCloseInactive(Duration closeInactive) {
    checkNotFrozen();
    Objects.requireNonNull(closeInactive, "closeInactive");
    if (closeInactive.isNegative() || closeInactive.compareTo(Duration.ofDays(7)) > 0) {
      throw new IllegalArgumentException(
          "closeInactive must be between 0 and 7 days, got " + closeInactive);
    }
    this.closeInactive = closeInactive;
    return this;
  }

  public TailerConfig setTicker(Ticker ticker) {
    checkNotFrozen();
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    return this;
  }

  /** Checks the settings together; called by the tailer before it freezes the config. */
  public void validate() {
    if (logs.isEmpty()) {
      throw new IllegalArgumentException("no log to tail: add at least one --log PATH");
    }
    if (readBufferBytes <= maxLineBytes) {
      throw new IllegalArgumentException("readBufferBytes (" + readBufferBytes
          + ") must be larger than maxLineBytes (" + maxLineBytes + ")");
    }
  }

  void freeze() {
    validate();
    frozen = true;
  }

  public boolean isFrozen() { return frozen; }

  private void checkNotFrozen() {
    if (frozen) {
      throw new IllegalStateException("TailerConfig is frozen: the tailer has been built from it");
    }
  }

  public List<String> logs() { return List.copyOf(logs); }
  public int maxLineBytes() { return maxLineBytes; }
  public int readBufferBytes() { return readBufferBytes; }
  public Duration pollInterval() { return pollInterval; }
  public Duration closeInactive() { return closeInactive; }
  public Ticker ticker() { return ticker; }

  List<LogGlob> globs() {
    List<LogGlob> out = new ArrayList<>();
    for (String s : logs) out.add(LogGlob.parse(s));
    return out;
  }

  /** For logs: where this config points. */
  @Override
  public String toString() {
    return "TailerConfig{logs=" + logs + ", maxLineBytes=" + maxLineBytes + ", readBufferBytes="
        + readBufferBytes + ", pollInterval=" + pollInterval + ", closeInactive=" + closeInactive + "}";
  }

  static Path absolute(String s) {
    return Path.of(s).toAbsolutePath().normalize();
  }
}
