package io.logtail.parse;

/**
 * The fields of one access-log line that matter to logtail, as offsets into byte arrays: either the
 * line buffer itself or, for values that held nginx escapes, a scratch buffer owned by this object.
 * Reused from line to line by one thread (filled by {@link LogFormat#parse}); valid until the next
 * parse. No String is created on the hot path.
 */
public final class ParsedLine {
  // request method, e.g. GET
  byte[] methodBuf;
  int methodOff;
  int methodLen;
  // request path (without query); percent-encoded unless pathDecoded
  byte[] pathBuf;
  int pathOff;
  int pathLen;
  boolean pathDecoded;
  // query string without '?'; queryLen == -1 when the target had no '?'
  byte[] queryBuf;
  int queryOff;
  int queryLen;
  // protocol, e.g. HTTP/1.1; protoLen 0 when absent (HTTP/0.9 style request line)
  byte[] protoBuf;
  int protoOff;
  int protoLen;

  int status;
  long timeMicros;
  /** set by LogFormat.find: the value it delimited contained a backslash */
  boolean escaped;

  /** Holds escape-decoded values; decoded text is never longer than its escaped form. */
  byte[] scratch = new byte[256];
  int scratchPos;

  // last time_local / time_iso8601 seen, minus its seconds digits, and that minute's epoch second
  final byte[] timeKey = new byte[32];
  int timeKeyLen = -1;
  long timeKeyEpochMinute;
  long tk0, tk1, tk2, tk3; // time_local key words (timeKeyLen 26)

  public ParsedLine() {}

  public byte[] methodBuf() { return methodBuf; }
  public int methodOff() { return methodOff; }
  public int methodLen() { return methodLen; }

  public byte[] pathBuf() { return pathBuf; }
  public int pathOff() { return pathOff; }
  public int pathLen() { return pathLen; }
  /** True when the path came from {@code $uri} (already percent-decoded by nginx). */
  public boolean pathDecoded() { return pathDecoded; }

  public boolean hasQuery() { return queryLen >= 0; }
  public byte[] queryBuf() { return queryBuf; }
  public int queryOff() { return queryOff; }
  /** Length of the query (without {@code ?}), or -1 when there is none. */
  public int queryLen() { return queryLen; }

  public byte[] protoBuf() { return protoBuf; }
  public int protoOff() { return protoOff; }
  public int protoLen() { return protoLen; }

  /** HTTP status, 100..999. */
  public int status() { return status; }

  /** Request time, microseconds since the epoch (UTC). */
  public long timeMicros() { return timeMicros; }

  /** True if the method is exactly the given ASCII text. */
  public boolean methodIs(String ascii) {
    if (methodLen != ascii.length()) {
      return false;
    }
    for (int i = 0; i < methodLen; i++) {
      if (methodBuf[methodOff + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  void reset(int lineLen) {
    if (scratch.length < lineLen + 8) {
      scratch = new byte[Math.max(lineLen + 8, scratch.length * 2)];
    }
    scratchPos = 0;
    methodBuf = pathBuf = queryBuf = protoBuf = null;
    methodOff = methodLen = pathOff = pathLen = queryOff = protoOff = protoLen = 0;
    queryLen = -1;
    pathDecoded = false;
    status = 0;
    timeMicros = 0;
  }

  @Override
  public String toString() {
    return "ParsedLine[" + str(methodBuf, methodOff, methodLen) + " " + str(pathBuf, pathOff, pathLen)
        + (queryLen >= 0 ? "?" + str(queryBuf, queryOff, queryLen) : "") + " "
        + str(protoBuf, protoOff, protoLen) + " status=" + status + " t=" + timeMicros + "]";
  }

  private static String str(byte[] b, int off, int len) {
    return b == null ? "" : new String(b, off, len, java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
