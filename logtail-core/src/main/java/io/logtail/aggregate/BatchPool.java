package io.logtail.aggregate;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The hand-off between the builder (tailer thread, the only writer of a filling batch) and the flusher
 * (the only reader of a full one). A fixed number of batches circulates: free → filling → full →
 * committing → free. When none is free the builder blocks, the tailer stops reading, and the access
 * log simply grows: that is the backpressure, and it bounds memory to {@code size} batches.
 */
public final class BatchPool {
  private final BlockingQueue<Batch> free;
  private final BlockingQueue<Batch> full;
  private final int trimBytes;

  public BatchPool(int size, int initialBufferBytes) {
    if (size < 2) {
      throw new IllegalArgumentException("batch pool size must be >= 2, was " + size);
    }
    free = new ArrayBlockingQueue<>(size);
    full = new ArrayBlockingQueue<>(size);
    trimBytes = Math.max(initialBufferBytes, 1 << 20) * 4;
    for (int i = 0; i < size; i++) {
      free.add(new Batch(initialBufferBytes));
    }
  }

  Batch takeFree() throws InterruptedException {
    return free.take();
  }

  void submit(Batch b) throws InterruptedException {
    full.put(b);
  }

  /** The next full batch, or null after the timeout. */
  public Batch pollFull(long timeout, TimeUnit unit) throws InterruptedException {
    return full.poll(timeout, unit);
  }

  /** Returns a committed batch for reuse. */
  public void recycle(Batch b) {
    b.clear(trimBytes);
    if (!free.offer(b)) {
      throw new IllegalStateException("batch recycled twice");
    }
  }

  public int pending() {
    return full.size();
  }

  /**
   * Whether the flusher has nothing to do: no full batch queued and none being committed (at most one
   * batch, the filling one, is out of the free queue). A hint, read without a lock.
   */
  public boolean flusherIdle() {
    return full.isEmpty() && free.remainingCapacity() <= 1;
  }
}
