package io.logtail.flush;

/** Told of every committed batch, on the flusher thread, in commit order (e.g. the binlog, stats). */
@FunctionalInterface
public interface CommitListener {
  void committed(BatchResult result) throws Exception;
}
