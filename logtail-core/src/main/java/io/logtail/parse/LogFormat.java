package io.logtail.parse;

import io.logtail.event.RejectReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An nginx {@code log_format}, compiled into a byte-level line parser: a leading literal, then
 * variable/literal steps where each variable ends at the first occurrence of the literal that follows
 * it (skipping backslash-escaped bytes unless {@code escape=none}), and the last variable ends where
 * the final literal ends the line. No regex, no backtracking.
 *
 * <p>Immutable and thread-safe; all per-line state lives in the caller's {@link ParsedLine}.
 *
 * <p>Fields used: the request ({@code $request}, or {@code $request_method} with {@code $request_uri}
 * or {@code $uri}/{@code $document_uri} plus optional {@code $args}/{@code $query_string}),
 * {@code $status}, and the first of {@code $time_local}, {@code $time_iso8601}, {@code $msec}. All
 * other variables are skipped. These three are required: {@link #compile} rejects a format that lacks
 * one of them.
 */
public final class LogFormat {

  /** How nginx escaped variable values ({@code log_format ... escape=}). */
  public enum Escape { DEFAULT, JSON, NONE }

  /** nginx's predefined {@code combined} format. */
  public static final String COMBINED_TEXT =
      "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
          + "\"$http_referer\" \"$http_user_agent\"";

  public static final LogFormat COMBINED = compile(COMBINED_TEXT);

  // variable kinds
  static final int SKIP = 0;
  static final int REQUEST = 1;
  static final int REQUEST_METHOD = 2;
  static final int REQUEST_URI = 3;
  static final int URI = 4;
  static final int ARGS = 5;
  static final int STATUS = 6;
  static final int TIME_LOCAL = 7;
  static final int TIME_ISO8601 = 8;
  static final int MSEC = 9;
  static final int KINDS = 10;

  private final String text;
  private final Escape escape;
  private final byte[] lead;
  private final int[] varKind;
  /** literal after each variable; the last one may be empty (variable runs to end of line) */
  private final byte[][] after;
  private final boolean skipEscaped;
  private final boolean hasRequest;

  private LogFormat(String text, Escape escape, byte[] lead, int[] varKind, byte[][] after) {
    this.text = text;
    this.escape = escape;
    this.lead = lead;
    this.varKind = varKind;
    this.after = after;
    this.skipEscaped = escape != Escape.NONE;
    boolean req = false;
    for (int k : varKind) {
      req |= k == REQUEST;
    }
    this.hasRequest = req;
  }

  public String text() { return text; }

  public Escape escape() { return escape; }

  @Override
  public String toString() {
    return "LogFormat[escape=" + escape.name().toLowerCase() + " " + text + "]";
  }

  // ------------------------------------------------------------------------------------------------
  // compile

  /**
   * Compiles the text that follows {@code log_format name} in nginx.conf: an optional
   * {@code escape=default|json|none}, then either one or more quoted pieces (single or double quotes,
   * concatenated as nginx does, with an optional trailing {@code ;}), or the format itself unquoted.
   *
   * @throws IllegalArgumentException if the text is not a usable format
   */
  public static LogFormat compile(String logFormatText) {
    if (logFormatText == null) {
      throw new IllegalArgumentException("log format is null");
    }
    String s = logFormatText.strip();
    Escape escape = Escape.DEFAULT;
    if (s.startsWith("escape=")) {
      int sp = 0;
      while (sp < s.length() && !Character.isWhitespace(s.charAt(sp))) {
        sp++;
      }
      String v = s.substring("escape=".length(), sp);
      switch (v) {
        case "default": escape = Escape.DEFAULT; break;
        case "json": escape = Escape.JSON; break;
        case "none": escape = Escape.NONE; break;
        default: throw new IllegalArgumentException("unknown escape=" + v + " (default, json or none)");
      }
      s = s.substring(sp).strip();
    }
    String fmt = unquoteConfig(s);
    if (fmt == null) {
      fmt = s;
    }
    if (fmt.isEmpty()) {
      throw new IllegalArgumentException("empty log format");
    }

    byte[] bytes = fmt.getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream lit = new java.io.ByteArrayOutputStream();
    byte[] lead = null;
    List<Integer> kinds = new ArrayList<>();
    List<byte[]> afters = new ArrayList<>();
    boolean haveTime = false;
    int i = 0;
    while (i < bytes.length) {
      byte b = bytes[i];
      if (b != '$') {
        lit.write(b);
        i++;
        continue;
      }
      // a variable
      int nameStart;
      int nameEnd;
      if (i + 1 < bytes.length && bytes[i + 1] == '{') {
        nameStart = i + 2;
        nameEnd = nameStart;
        while (nameEnd < bytes.length && isNameByte(bytes[nameEnd])) {
          nameEnd++;
        }
        if (nameEnd >= bytes.length || bytes[nameEnd] != '}') {
          throw new IllegalArgumentException("unterminated ${ in log format at " + i + ": " + fmt);
        }
        i = nameEnd + 1;
      } else {
        nameStart = i + 1;
        nameEnd = nameStart;
        while (nameEnd < bytes.length && isNameByte(bytes[nameEnd])) {
          nameEnd++;
        }
        i = nameEnd;
      }
      if (nameEnd == nameStart) {
        throw new IllegalArgumentException("'$' without a variable name at " + nameStart + ": " + fmt);
      }
      String name = new String(bytes, nameStart, nameEnd - nameStart, StandardCharsets.US_ASCII);
      if (lead == null) {
        lead = lit.toByteArray();
      } else {
        byte[] a = lit.toByteArray();
        if (a.length == 0) {
          throw new IllegalArgumentException("variables $" + name
              + " and the one before it are not separated by literal text; cannot be parsed: " + fmt);
        }
        afters.add(a);
      }
      lit.reset();
      int kind = kindOf(name);
      if (kind == TIME_LOCAL || kind == TIME_ISO8601 || kind == MSEC) {
        if (haveTime) {
          kind = SKIP; // the first time variable is the one used
        }
        haveTime = true;
      }
      kinds.add(kind);
    }
    if (lead == null) {
      throw new IllegalArgumentException("log format has no variables: " + fmt);
    }
    afters.add(lit.toByteArray());

    int[] varKind = kinds.stream().mapToInt(Integer::intValue).toArray();
    boolean request = kinds.contains(REQUEST);
    boolean method = kinds.contains(REQUEST_METHOD);
    boolean target = kinds.contains(REQUEST_URI) || kinds.contains(URI);
    if (!request && !(method && target)) {
      throw new IllegalArgumentException(
          "log format needs $request, or $request_method with $request_uri or $uri: " + fmt);
    }
    if (!kinds.contains(STATUS)) {
      throw new IllegalArgumentException("log format needs $status: " + fmt);
    }
    if (!haveTime) {
      throw new IllegalArgumentException("log format needs $time_local, $time_iso8601 or $msec: " + fmt);
    }
    return new LogFormat(logFormatText, escape, lead, varKind, afters.toArray(new byte[0][]));
  }

  private static boolean isNameByte(byte b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_';
  }

  private static int kindOf(String name) {
    switch (name) {
      case "request": return REQUEST;
      case "request_method": return REQUEST_METHOD;
      case "request_uri": return REQUEST_URI;
      case "uri":
      case "document_uri": return URI;
      case "args":
      case "query_string": return ARGS;
      case "status": return STATUS;
      case "time_local": return TIME_LOCAL;
      case "time_iso8601": return TIME_ISO8601;
      case "msec": return MSEC;
      default: return SKIP;
    }
  }

  /**
   * nginx.conf tokens: quoted pieces separated by whitespace, optional trailing ';'. Returns their
   * concatenation, or null when the text is not of that form (then it is the format itself).
   */
  static String unquoteConfig(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    int pieces = 0;
    int n = s.length();
    while (true) {
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (i >= n) {
        break;
      }
      char c = s.charAt(i);
      if (c == ';') {
        i++;
        while (i < n && Character.isWhitespace(s.charAt(i))) {
          i++;
        }
        if (i < n) {
          return null;
        }
        break;
      }
      if (c != '\'' && c != '"') {
        return null;
      }
      char q = c;
      i++;
      boolean closed = false;
      while (i < n) {
        char d = s.charAt(i);
        if (d == q) {
          closed = true;
          i++;
          break;
        }
        if (d == '\\' && i + 1 < n) {
          char e = s.charAt(i + 1);
          switch (e) {
            case '"': case '\'': case '\\': out.append(e); break;
            case 't': out.append('\t'); break;
            case 'r': out.append('\r'); break;
            case 'n': out.append('\n'); break;
            default: out.append('\\').append(e); break;
          }
          i += 2;
          continue;
        }
        out.append(d);
        i++;
      }
      if (!closed) {
        return null;
      }
      pieces++;
    }
    return pieces == 0 ? null : out.toString();
  }

  // ------------------------------------------------------------------------------------------------
  // parse

  /**
   * Parses {@code buf[off, off+len)} (one line without its newline) into {@code out}.
   *
   * @return null when the line matched and its fields are valid, else why not:
   *     {@link RejectReason#MALFORMED_LINE} (does not match the format, or a non-numeric status),
   *     {@link RejectReason#BAD_ESCAPE}, {@link RejectReason#BAD_REQUEST_LINE},
   *     {@link RejectReason#BAD_TIME}
   */
  public RejectReason parse(byte[] buf, int off, int len, ParsedLine out) {
    out.reset(len);
    final int end = off + len;
    final byte[] lead = this.lead;
    if (len < lead.length || !regionEquals(buf, off, lead)) {
      return RejectReason.MALFORMED_LINE;
    }
    int pos = off + lead.length;
    final int[] varKind = this.varKind;
    final int n = varKind.length;
    // spans of the used variables; ints on the stack, no arrays
    int reqS = -1, reqE = -1, methS = -1, methE = -1, uriS = -1, uriE = -1, argsS = -1, argsE = -1;
    int statS = -1, statE = -1, timeS = -1, timeE = -1;
    int reqKind = 0, timeKind = 0;
    boolean reqEsc = true;
    for (int v = 0; v < n; v++) {
      byte[] lit = after[v];
      int ve;
      int next;
      out.escaped = true; // unknown unless find() scanned the value
      if (v == n - 1) {
        if (lit.length == 0) {
          ve = end;
        } else {
          ve = end - lit.length;
          if (ve < pos || !regionEquals(buf, ve, lit)) {
            return RejectReason.MALFORMED_LINE;
          }
        }
        next = end;
      } else {
        ve = find(buf, pos, end, lit, out);
        if (ve < 0) {
          return RejectReason.MALFORMED_LINE;
        }
        next = ve + lit.length;
      }
      switch (varKind[v]) {
        case SKIP: break;
        case REQUEST: reqS = pos; reqE = ve; reqEsc = out.escaped; break;
        case REQUEST_METHOD: methS = pos; methE = ve; break;
        case REQUEST_URI: uriS = pos; uriE = ve; reqKind = REQUEST_URI; break;
        case URI: if (reqKind != REQUEST_URI) { uriS = pos; uriE = ve; reqKind = URI; } break;
        case ARGS: argsS = pos; argsE = ve; break;
        case STATUS: statS = pos; statE = ve; break;
        default: timeS = pos; timeE = ve; timeKind = varKind[v]; break;
      }
      pos = next;
    }

    // status: exactly three digits
    if (statE - statS != 3) {
      return RejectReason.MALFORMED_LINE;
    }
    int s0 = buf[statS] - '0', s1 = buf[statS + 1] - '0', s2 = buf[statS + 2] - '0';
    if (s0 < 1 || s0 > 9 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9) {
      return RejectReason.MALFORMED_LINE;
    }
    out.status = s0 * 100 + s1 * 10 + s2;

    // request
    RejectReason r;
    if (hasRequest) {
      r = request(buf, reqS, reqE, reqEsc, out);
    } else {
      r = methodAndUri(buf, methS, methE, uriS, uriE, reqKind == URI, argsS, argsE, out);
    }
    if (r != null) {
      return r;
    }

    // time
    long t;
    switch (timeKind) {
      case TIME_LOCAL: t = TimeParser.timeLocal(buf, timeS, timeE - timeS, out); break;
      case TIME_ISO8601: t = TimeParser.iso8601(buf, timeS, timeE - timeS, out); break;
      default: t = TimeParser.msec(buf, timeS, timeE - timeS); break;
    }
    if (t == Long.MIN_VALUE) {
      return RejectReason.BAD_TIME;
    }
    out.timeMicros = t;
    return null;
  }

  private static boolean regionEquals(byte[] buf, int at, byte[] lit) {
    for (int i = 0; i < lit.length; i++) {
      if (buf[at + i] != lit[i]) {
        return false;
      }
    }
    return true;
  }

  private static final long BACKSLASH = Swar.pattern((byte) '\\');

  /**
   * First occurrence of lit in buf[from, end), skipping a byte after each backslash if escaping;
   * sets out.escaped when it passed a backslash. Scans 8 bytes per step for the literal's first byte
   * or a backslash.
   */
  private int find(byte[] buf, int from, int end, byte[] lit, ParsedLine out) {
    final int last = end - lit.length;
    final byte first = lit[0];
    final long firstPat = Swar.pattern(first);
    final boolean skip = skipEscaped;
    boolean escaped = false;
    int i = from;
    while (i <= last) {
      if (i + 8 <= end) {
        long w = Swar.load(buf, i);
        long m = Swar.eq(w, firstPat);
        if (skip) {
          m |= Swar.eq(w, BACKSLASH);
        }
        if (m == 0) {
          i += 8;
          continue;
        }
        i += Swar.first(m);
        if (i > last) {
          break;
        }
      }
      byte b = buf[i];
      if (b == first) {
        int k = 1;
        while (k < lit.length && buf[i + k] == lit[k]) {
          k++;
        }
        if (k == lit.length) {
          out.escaped = escaped;
          return i;
        }
      }
      if (b == '\\' && skip) {
        escaped = true;
        i += 2;
      } else {
        i++;
      }
    }
    return -1;
  }

  // decoded field: set by unescape()
  private static final int NO_ESCAPE = -2;

  /**
   * Undoes nginx's escaping of buf[s,e). Returns NO_ESCAPE if there was nothing to undo (use buf
   * itself), -1 on a malformed escape, else the decoded length at out.scratch[out.scratchPos] (the
   * caller then advances scratchPos).
   */
  private int unescape(byte[] buf, int s, int e, ParsedLine out) {
    if (escape == Escape.NONE) {
      return NO_ESCAPE;
    }
    int i = s;
    while (i < e && buf[i] != '\\') {
      i++;
    }
    if (i == e) {
      return NO_ESCAPE;
    }
    byte[] dst = out.scratch;
    int d = out.scratchPos;
    int d0 = d;
    System.arraycopy(buf, s, dst, d, i - s);
    d += i - s;
    if (escape == Escape.DEFAULT) {
      while (i < e) {
        byte b = buf[i];
        if (b != '\\') {
          dst[d++] = b;
          i++;
          continue;
        }
        if (e - i < 4 || buf[i + 1] != 'x') {
          return -1;
        }
        int h = hex(buf[i + 2]);
        int l = hex(buf[i + 3]);
        if ((h | l) < 0) {
          return -1;
        }
        dst[d++] = (byte) (h << 4 | l);
        i += 4;
      }
      return d - d0;
    }
    // JSON
    while (i < e) {
      byte b = buf[i];
      if (b != '\\') {
        dst[d++] = b;
        i++;
        continue;
      }
      if (e - i < 2) {
        return -1;
      }
      byte c = buf[i + 1];
      switch (c) {
        case '"': case '\\': case '/': dst[d++] = c; i += 2; continue;
        case 'n': dst[d++] = '\n'; i += 2; continue;
        case 'r': dst[d++] = '\r'; i += 2; continue;
        case 't': dst[d++] = '\t'; i += 2; continue;
        case 'b': dst[d++] = '\b'; i += 2; continue;
        case 'f': dst[d++] = '\f'; i += 2; continue;
        case 'u': break;
        default: return -1;
      }
      int cp = hex4(buf, i + 2, e);
      if (cp < 0) {
        return -1;
      }
      i += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (e - i < 6 || buf[i] != '\\' || buf[i + 1] != 'u') {
          return -1;
        }
        int lo = hex4(buf, i + 2, e);
        if (lo < 0xDC00 || lo > 0xDFFF) {
          return -1;
        }
        i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return -1;
      }
      // UTF-8: at most 4 bytes for 6 (or 12) input bytes, so never longer than the input
      if (cp < 0x80) {
        dst[d++] = (byte) cp;
      } else if (cp < 0x800) {
        dst[d++] = (byte) (0xC0 | cp >> 6);
        dst[d++] = (byte) (0x80 | cp & 0x3F);
      } else if (cp < 0x10000) {
        dst[d++] = (byte) (0xE0 | cp >> 12);
        dst[d++] = (byte) (0x80 | cp >> 6 & 0x3F);
        dst[d++] = (byte) (0x80 | cp & 0x3F);
      } else {
        dst[d++] = (byte) (0xF0 | cp >> 18);
        dst[d++] = (byte) (0x80 | cp >> 12 & 0x3F);
        dst[d++] = (byte) (0x80 | cp >> 6 & 0x3F);
        dst[d++] = (byte) (0x80 | cp & 0x3F);
      }
    }
    return d - d0;
  }

  static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }

  private static int hex4(byte[] buf, int at, int end) {
    if (end - at < 4) {
      return -1;
    }
    int a = hex(buf[at]), b = hex(buf[at + 1]), c = hex(buf[at + 2]), d = hex(buf[at + 3]);
    if ((a | b | c | d) < 0) {
      return -1;
    }
    return a << 12 | b << 8 | c << 4 | d;
  }

  /** $request: METHOD SP target [SP HTTP/x.y] */
  private RejectReason request(byte[] buf, int s, int e, boolean mayBeEscaped, ParsedLine out) {
    int dl = mayBeEscaped ? unescape(buf, s, e, out) : NO_ESCAPE;
    if (dl == -1) {
      return RejectReason.BAD_ESCAPE;
    }
    byte[] b = buf;
    if (dl != NO_ESCAPE) {
      b = out.scratch;
      s = out.scratchPos;
      e = s + dl;
      out.scratchPos = e;
    }
    int i = s;
    while (i < e && b[i] != ' ') {
      i++;
    }
    if (!isMethod(b, s, i) || i == e) {
      return RejectReason.BAD_REQUEST_LINE;
    }
    out.methodBuf = b;
    out.methodOff = s;
    out.methodLen = i - s;
    int ts = i + 1;
    int te = e;
    // protocol after the last space, if it looks like one
    int j = e - 1;
    while (j >= ts && b[j] != ' ') {
      j--;
    }
    if (j >= ts && e - (j + 1) >= 5 && b[j + 1] == 'H' && b[j + 2] == 'T' && b[j + 3] == 'T'
        && b[j + 4] == 'P' && b[j + 5] == '/') {
      out.protoBuf = b;
      out.protoOff = j + 1;
      out.protoLen = e - (j + 1);
      te = j;
    }
    if (te <= ts) {
      return RejectReason.BAD_REQUEST_LINE;
    }
    target(b, ts, te, out);
    return null;
  }

  private static boolean isMethod(byte[] b, int s, int e) {
    if (e - s < 1 || e - s > 32) {
      return false;
    }
    for (int i = s; i < e; i++) {
      byte c = b[i];
      if (!((c >= 'A' && c <= 'Z') || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** Splits a request target into path and query; absolute-form targets lose scheme and host. */
  private static void target(byte[] b, int s, int e, ParsedLine out) {
    if (e - s > 7 && b[s] != '/') {
      int k = s;
      // scheme://authority
      while (k < e && b[k] != ':' && b[k] != '/') {
        k++;
      }
      if (k + 2 < e && b[k] == ':' && b[k + 1] == '/' && b[k + 2] == '/') {
        k += 3;
        while (k < e && b[k] != '/' && b[k] != '?') {
          k++;
        }
        s = k;
      }
    }
    int q = s;
    while (q < e && b[q] != '?') {
      q++;
    }
    out.pathBuf = b;
    out.pathOff = s;
    out.pathLen = q - s;
    if (q < e) {
      out.queryBuf = b;
      out.queryOff = q + 1;
      out.queryLen = e - (q + 1);
    }
  }

  private RejectReason methodAndUri(byte[] buf, int ms, int me, int us, int ue, boolean uriDecoded,
      int as, int ae, ParsedLine out) {
    int dl = unescape(buf, ms, me, out);
    if (dl == -1) {
      return RejectReason.BAD_ESCAPE;
    }
    byte[] b = buf;
    if (dl != NO_ESCAPE) {
      b = out.scratch;
      ms = out.scratchPos;
      me = ms + dl;
      out.scratchPos = me;
    }
    if (!isMethod(b, ms, me)) {
      return RejectReason.BAD_REQUEST_LINE;
    }
    out.methodBuf = b;
    out.methodOff = ms;
    out.methodLen = me - ms;

    dl = unescape(buf, us, ue, out);
    if (dl == -1) {
      return RejectReason.BAD_ESCAPE;
    }
    b = buf;
    if (dl != NO_ESCAPE) {
      b = out.scratch;
      us = out.scratchPos;
      ue = us + dl;
      out.scratchPos = ue;
    }
    if (ue <= us || (ue - us == 1 && b[us] == '-')) {
      return RejectReason.BAD_REQUEST_LINE;
    }
    if (!uriDecoded) {
      target(b, us, ue, out);
      return null;
    }
    out.pathBuf = b;
    out.pathOff = us;
    out.pathLen = ue - us;
    out.pathDecoded = true;
    if (as >= 0) {
      dl = unescape(buf, as, ae, out);
      if (dl == -1) {
        return RejectReason.BAD_ESCAPE;
      }
      b = buf;
      if (dl != NO_ESCAPE) {
        b = out.scratch;
        as = out.scratchPos;
        ae = as + dl;
        out.scratchPos = ae;
      }
      // nginx logs an empty $args as "-"
      if (ae > as && !(ae - as == 1 && b[as] == '-')) {
        out.queryBuf = b;
        out.queryOff = as;
        out.queryLen = ae - as;
      }
    }
    return null;
  }
}
