package io.logtail.tail;

import java.io.IOException;

/** Positional reads of a file's content (raw bytes, or the decompressed bytes of a gzip file). */
interface ContentInput {
  /**
   * Reads up to {@code len} bytes at content offset {@code pos} into {@code b[off..]}. Returns the
   * number read; fewer than {@code len} (possibly 0) only when the end of the content was reached.
   */
  int read(long pos, byte[] b, int off, int len) throws IOException;

  /**
   * Called after a {@link #read} and before any of its bytes are delivered: true when the content
   * still starts with its stream's first line, so the bytes just read are the stream's. A plain file
   * truncated in place (copytruncate) and written again since the last check does not, and what was
   * read from it may be new content at the old offset.
   */
  default boolean stillSameContent() throws IOException {
    return true;
  }
}
