package io.logtail.flush;

import java.sql.SQLException;

/**
 * The committed offset of a source in the database is not where this worker's batch starts: another
 * worker with the same node id wrote it, or the database was restored while this worker ran. The batch
 * is rolled back; the worker must restart and resume from the database's offsets.
 */
public final class OffsetConflictException extends SQLException {
  public OffsetConflictException(String message) {
    super(message, "LT001");
  }
}
