package io.logtail.util;

/**
 * A source of monotonic time, injected wherever logic depends on elapsed time (poll intervals,
 * flush intervals, inactivity timeouts) so that tests drive time instead of sleeping.
 * Wall-clock time, where it is recorded (commit timestamps), comes from a {@link java.time.Clock}.
 */
@FunctionalInterface
public interface Ticker {
  /** Monotonic nanoseconds, only meaningful as differences. */
  long nanos();

  static Ticker system() {
    return System::nanoTime;
  }
}
