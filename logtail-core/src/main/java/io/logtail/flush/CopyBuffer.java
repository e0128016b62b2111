package io.logtail.flush;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Rows in PostgreSQL's binary {@code COPY} format, built in one growable byte array that is reused
 * from batch to batch (no per-row objects).
 *
 * <p>Binary COPY avoids text escaping (free text and raw reject lines may hold tabs, backslashes,
 * NUL or invalid UTF-8) and lets the server skip text parsing of integers, timestamps and bytea.
 * Layout: an 11-byte signature, flags and extension length, then per row a 16-bit field count and per
 * field a 32-bit length (-1 for NULL) and its bytes, then a 16-bit -1 trailer.
 */
public final class CopyBuffer {
  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
  /** PostgreSQL timestamps count microseconds from 2000-01-01T00:00:00Z. */
  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

  private byte[] buf;
  private int len;
  private int rows;

  public CopyBuffer(int initialCapacity) {
    buf = new byte[Math.max(64, initialCapacity)];
    reset();
  }

  /** Empties the buffer, keeping its capacity, and writes the header. */
  public void reset() {
    len = 0;
    rows = 0;
    ensure(SIGNATURE.length + 8);
    System.arraycopy(SIGNATURE, 0, buf, 0, SIGNATURE.length);
    len = SIGNATURE.length;
    putInt(0); // flags
    putInt(0); // header extension length
  }

  public CopyBuffer row(int fields) {
    ensure(2);
    putShort(fields);
    rows++;
    return this;
  }

  public CopyBuffer int2(int v) {
    ensure(6);
    putInt(2);
    putShort(v);
    return this;
  }

  public CopyBuffer int4(int v) {
    ensure(8);
    putInt(4);
    putInt(v);
    return this;
  }

  public CopyBuffer int8(long v) {
    ensure(12);
    putInt(8);
    putLong(v);
    return this;
  }

  public CopyBuffer timestampMicros(long epochMicros) {
    return int8(epochMicros - PG_EPOCH_MICROS);
  }

  public CopyBuffer nul() {
    ensure(4);
    putInt(-1);
    return this;
  }

  public CopyBuffer bytes(byte[] b, int off, int n) {
    ensure(4 + n);
    putInt(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
    return this;
  }

  /** Appends bytes verbatim: fields copied, length words included, from another COPY buffer. */
  public CopyBuffer raw(byte[] b, int off, int n) {
    ensure(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
    return this;
  }

  /** A text field; {@code null} writes SQL NULL. */
  public CopyBuffer text(String s) {
    if (s == null) {
      return nul();
    }
    int n = s.length();
    boolean ascii = true;
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return bytes(b, 0, b.length);
    }
    ensure(4 + n);
    putInt(n);
    for (int i = 0; i < n; i++) {
      buf[len++] = (byte) s.charAt(i);
    }
    return this;
  }

  /** Finishes the data with the trailer; call once before sending. */
  public CopyBuffer finish() {
    ensure(2);
    putShort(-1);
    return this;
  }

  public byte[] array() {
    return buf;
  }

  public int length() {
    return len;
  }

  public int rows() {
    return rows;
  }

  public int capacity() {
    return buf.length;
  }

  /** Shrinks a buffer that grew for an exceptional batch, so one burst does not pin memory. */
  public void trimTo(int capacity) {
    if (buf.length > capacity && len <= capacity) {
      buf = Arrays.copyOf(buf, capacity);
    }
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      int cap = buf.length;
      while (cap < len + extra) {
        cap = cap << 1;
      }
      buf = Arrays.copyOf(buf, cap);
    }
  }

  private void putShort(int v) {
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
  }

  private void putInt(int v) {
    buf[len++] = (byte) (v >>> 24);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }
}
