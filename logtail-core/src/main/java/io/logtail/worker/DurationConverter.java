package io.logtail.worker;

import java.time.Duration;
import picocli.CommandLine;

/** Durations on the command line: {@code 250ms}, {@code 1s}, {@code 5m}, {@code 1h}, or ISO-8601 {@code PT1S}. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String s) {
    return parse(s);
  }

  public static Duration parse(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.startsWith("pt") || t.startsWith("p")) {
        return Duration.parse(t.toUpperCase(java.util.Locale.ROOT));
      }
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      switch (t.charAt(t.length() - 1)) {
        case 's': return Duration.ofSeconds(n);
        case 'm': return Duration.ofMinutes(n);
        case 'h': return Duration.ofHours(n);
        default: break;
      }
    } catch (RuntimeException e) {
      // fall through to the message below
    }
    throw new CommandLine.TypeConversionException(
        "'" + s + "' is not a duration: use e.g. 250ms, 1s, 5m, 1h");
  }
}
