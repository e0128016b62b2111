package io.logtail.parse;

/**
 * nginx time variables to epoch microseconds (UTC). Returns {@link Long#MIN_VALUE} when invalid.
 * The two calendar forms cache the last minute seen (the text without its seconds digits) in the
 * {@link ParsedLine}, so consecutive lines of the same minute cost a 24-byte compare.
 */
final class TimeParser {
  private TimeParser() {}

  static final long INVALID = Long.MIN_VALUE;

  private static final byte[] MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec".getBytes(
      java.nio.charset.StandardCharsets.US_ASCII);

  /** {@code 23/Nov/2026:09:00:29 +0100} */
  static long timeLocal(byte[] b, int s, int len, ParsedLine cache) {
    if (len != 26 || b[s + 2] != '/' || b[s + 6] != '/' || b[s + 11] != ':' || b[s + 14] != ':'
        || b[s + 17] != ':' || b[s + 20] != ' ') {
      return INVALID;
    }
    int sec = two(b, s + 18);
    if (sec < 0 || sec > 59) {
      return INVALID;
    }
    long minute;
    // the 26 bytes as 4 words, the seconds digits (18, 19) masked out
    long k0 = Swar.load(b, s);
    long k1 = Swar.load(b, s + 8);
    long k2 = Swar.load(b, s + 16) & 0xFFFFFFFF0000FFFFL;
    long k3 = Swar.load(b, s + 18) >>> 48;
    if (cache.timeKeyLen == 26 && k0 == cache.tk0 && k1 == cache.tk1 && k2 == cache.tk2 && k3 == cache.tk3) {
      minute = cache.timeKeyEpochMinute;
    } else {
      int day = two(b, s);
      int mon = month(b, s + 3);
      int year = four(b, s + 7);
      int hour = two(b, s + 12);
      int min = two(b, s + 15);
      int tz = tz(b, s + 21, false);
      minute = minute(year, mon, day, hour, min, tz);
      if (minute == INVALID) {
        return INVALID;
      }
      cache.tk0 = k0;
      cache.tk1 = k1;
      cache.tk2 = k2;
      cache.tk3 = k3;
      cache.timeKeyLen = 26;
      cache.timeKeyEpochMinute = minute;
    }
    return (minute * 60 + sec) * 1_000_000L;
  }

  /** {@code 2026-11-23T09:00:29+01:00} or {@code 2026-11-23T09:00:29Z} */
  static long iso8601(byte[] b, int s, int len, ParsedLine cache) {
    if ((len != 25 && len != 20) || b[s + 4] != '-' || b[s + 7] != '-' || b[s + 10] != 'T'
        || b[s + 13] != ':' || b[s + 16] != ':') {
      return INVALID;
    }
    int sec = two(b, s + 17);
    if (sec < 0 || sec > 59) {
      return INVALID;
    }
    int tzLen = len - 19;
    long minute;
    if (cacheHit(b, s, 17, s + 19, tzLen, cache)) {
      minute = cache.timeKeyEpochMinute;
    } else {
      int year = four(b, s);
      int mon = two(b, s + 5);
      int day = two(b, s + 8);
      int hour = two(b, s + 11);
      int min = two(b, s + 14);
      int tz;
      if (len == 20) {
        tz = b[s + 19] == 'Z' ? 0 : Integer.MIN_VALUE;
      } else {
        tz = tz(b, s + 19, true);
      }
      minute = minute(year, mon, day, hour, min, tz);
      if (minute == INVALID) {
        return INVALID;
      }
      store(b, s, 17, s + 19, tzLen, cache, minute);
    }
    return (minute * 60 + sec) * 1_000_000L;
  }

  /** {@code 1763888429.123}: seconds with an optional fraction of 1 to 6 digits. */
  static long msec(byte[] b, int s, int len) {
    int e = s + len;
    int i = s;
    long sec = 0;
    while (i < e && b[i] >= '0' && b[i] <= '9') {
      sec = sec * 10 + (b[i] - '0');
      i++;
    }
    int intDigits = i - s;
    if (intDigits == 0 || intDigits > 12) {
      return INVALID;
    }
    long micros = 0;
    if (i < e) {
      if (b[i] != '.') {
        return INVALID;
      }
      i++;
      int fs = i;
      while (i < e && b[i] >= '0' && b[i] <= '9') {
        micros = micros * 10 + (b[i] - '0');
        i++;
      }
      int fd = i - fs;
      if (i != e || fd == 0 || fd > 6) {
        return INVALID;
      }
      for (int k = fd; k < 6; k++) {
        micros *= 10;
      }
    }
    return sec * 1_000_000L + micros;
  }

  private static boolean cacheHit(byte[] b, int s1, int n1, int s2, int n2, ParsedLine c) {
    if (c.timeKeyLen != n1 + n2) {
      return false;
    }
    byte[] k = c.timeKey;
    for (int i = 0; i < n1; i++) {
      if (k[i] != b[s1 + i]) {
        return false;
      }
    }
    for (int i = 0; i < n2; i++) {
      if (k[n1 + i] != b[s2 + i]) {
        return false;
      }
    }
    return true;
  }

  private static void store(byte[] b, int s1, int n1, int s2, int n2, ParsedLine c, long minute) {
    System.arraycopy(b, s1, c.timeKey, 0, n1);
    System.arraycopy(b, s2, c.timeKey, n1, n2);
    c.timeKeyLen = n1 + n2;
    c.timeKeyEpochMinute = minute;
  }

  private static int digit(byte c) {
    int d = c - '0';
    return d >= 0 && d <= 9 ? d : -1000;
  }

  private static int two(byte[] b, int at) {
    int v = digit(b[at]) * 10 + digit(b[at + 1]);
    return v < 0 ? -1 : v;
  }

  private static int four(byte[] b, int at) {
    int v = digit(b[at]) * 1000 + digit(b[at + 1]) * 100 + digit(b[at + 2]) * 10 + digit(b[at + 3]);
    return v < 0 ? -1 : v;
  }

  private static int month(byte[] b, int at) {
    for (int m = 0; m < 12; m++) {
      if (MONTHS[m * 3] == b[at] && MONTHS[m * 3 + 1] == b[at + 1] && MONTHS[m * 3 + 2] == b[at + 2]) {
        return m + 1;
      }
    }
    return -1;
  }

  /** +hhmm (or +hh:mm when colon) to signed minutes east of UTC; Integer.MIN_VALUE if invalid. */
  private static int tz(byte[] b, int at, boolean colon) {
    byte sign = b[at];
    if (sign != '+' && sign != '-') {
      return Integer.MIN_VALUE;
    }
    int h = two(b, at + 1);
    int m;
    if (colon) {
      if (b[at + 3] != ':') {
        return Integer.MIN_VALUE;
      }
      m = two(b, at + 4);
    } else {
      m = two(b, at + 3);
    }
    if (h < 0 || h > 23 || m < 0 || m > 59) {
      return Integer.MIN_VALUE;
    }
    int v = h * 60 + m;
    return sign == '-' ? -v : v;
  }

  private static long minute(int year, int mon, int day, int hour, int min, int tz) {
    if (year < 1970 || mon < 1 || day < 1 || day > daysIn(year, mon) || hour < 0 || hour > 23
        || min < 0 || min > 59 || tz == Integer.MIN_VALUE) {
      return INVALID;
    }
    return epochDay(year, mon, day) * 1440 + hour * 60 + min - tz;
  }

  private static int daysIn(int y, int m) {
    switch (m) {
      case 2: return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
      case 4: case 6: case 9: case 11: return 30;
      case 1: case 3: case 5: case 7: case 8: case 10: case 12: return 31;
      default: return 0;
    }
  }

  /** Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's days_from_civil. */
  static long epochDay(int y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    long era = Math.floorDiv(y, 400);
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
  }
}
