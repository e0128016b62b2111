package io.logtail.tail;

import java.io.IOException;

/** Positional reads of a file's content (raw bytes, or the decompressed bytes of a gzip file). */
interface ContentInput {
  /**
   * Reads up to {@code len} bytes at content offset {@code pos} into {@code b[off..]}. Returns the
   * number read; fewer than {@code len} (possibly 0) only when the end of the content was reached.
   */
  int read(long pos, byte[] b, int off, int len) throws IOException;
}
