package io.logtail.flush;

import io.logtail.aggregate.Batch;
import io.logtail.aggregate.BatchPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single consumer of full batches: commits each with {@link BatchWriter}, in order, then tells
 * the {@link CommitListener}s (binlog first). A batch that fails is rolled back and retried, the same
 * batch, with exponential backoff, for as long as the failure looks transient (connection lost,
 * server shutting down, serialization failure); meanwhile no batch is freed, so the tailer soon stops
 * reading: the access log keeps growing, which is the point. A failure that cannot heal by retrying
 * (an offset conflict, a broken invariant, an error that persists) ends the flusher with that error,
 * and the worker exits so that its supervisor restarts it from the database's offsets.
 */
public final class Flusher implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Flusher.class);
  private static final int PERSISTENT_ERROR_ATTEMPTS = 5;

  private final String node;
  private final DataSource ds;
  private final BatchPool pool;
  private final BatchWriter writer;
  private final List<CommitListener> listeners;
  private long nextBatchId;
  private volatile boolean stopWhenDrained;
  private volatile Throwable failure;
  private volatile boolean databaseReachable = true;
  private volatile String lastError;
  private Connection conn;
  /** Planned batches, handed from the planner to the flusher one at a time. */
  private final SynchronousQueue<Batch> planned = new SynchronousQueue<>();
  private volatile boolean plannerDone;

  public Flusher(String node, DataSource ds, BatchPool pool, BatchWriter writer, long firstBatchId,
      List<CommitListener> listeners) {
    this.node = node;
    this.ds = ds;
    this.pool = pool;
    this.writer = writer;
    this.nextBatchId = firstBatchId;
    this.listeners = List.copyOf(listeners);
  }

  /** Commit what is queued, then return from {@link #run()}. */
  public void stopWhenDrained() {
    stopWhenDrained = true;
  }

  public Throwable failure() {
    return failure;
  }

  public boolean databaseReachable() {
    return databaseReachable;
  }

  public String lastError() {
    return lastError;
  }

  @Override
  public void run() {
    Thread planner = new Thread(this::planLoop, "logtail-planner");
    planner.setDaemon(true);
    planner.start();
    long idleSince = System.nanoTime();
    try {
      while (true) {
        Batch b = planned.poll(50, TimeUnit.MILLISECONDS);
        if (b == null) {
          if (plannerDone) {
            b = planned.poll();
            if (b == null) {
              return;
            }
          } else {
            continue;
          }
        }
        if (log.isDebugEnabled()) {
          log.debug("node {}: flusher waited {} ms for a planned batch", node, (System.nanoTime() - idleSince) / 1_000_000);
        }
        commit(b);
        pool.recycle(b);
        idleSince = System.nanoTime();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      log.error("node {}: flusher stopped: {}", node, t.toString(), t);
    } finally {
      planner.interrupt();
      try {
        planner.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      closeConnection();
    }
  }

  /**
   * The planner: takes full batches in order, plans each ({@link BatchWriter#plan}: in-memory dedupe,
   * and the lookup of keys committed by earlier batches, on a connection of its own) while the flusher
   * writes the previous one, and hands it over. The hand-off is synchronous, so a batch is planned
   * only once the flusher has taken the one before it: the only batch not committed when another is
   * planned is the previous one, whose keys the write looks up in its own transaction.
   */
  private void planLoop() {
    Connection lookup = null;
    long skipLookupsUntil = 0;
    try {
      while (true) {
        Batch b = pool.pollFull(50, TimeUnit.MILLISECONDS);
        if (b == null) {
          if (stopWhenDrained) {
            b = pool.pollFull(0, TimeUnit.MILLISECONDS);
            if (b == null) {
              return;
            }
          } else {
            continue;
          }
        }
        if (lookup == null && System.nanoTime() - skipLookupsUntil >= 0) {
          try {
            lookup = ds.getConnection();
            writer.prepare(lookup);
          } catch (SQLException e) {
            lookup = close(lookup);
            skipLookupsUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          }
        }
        if (!writer.plan(lookup, b)) {
          lookup = close(lookup);
          skipLookupsUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        }
        planned.put(b);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      log.error("node {}: planner stopped: {}", node, t.toString(), t);
    } finally {
      close(lookup);
      plannerDone = true;
    }
  }

  private static Connection close(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // discarded after a failure
      }
    }
    return null;
  }

  private void commit(Batch b) throws Exception {
    long batchId = nextBatchId;
    b.assignBatchId(batchId);
    long backoffMs = 100;
    int persistent = 0;
    BatchResult result;
    for (int attempt = 1; ; attempt++) {
      try {
        Connection c = connection();
        result = writer.write(c, b, batchId);
        if (!databaseReachable || attempt > 1) {
          log.info("node {}: batch {} committed after {} attempts; database reachable again", node, batchId, attempt);
        }
        databaseReachable = true;
        break;
      } catch (OffsetConflictException e) {
        if (attempt == 1) {
          throw e;
        }
        // an earlier attempt failed with its outcome unknown: its COMMIT may have been durable with the
        // reply lost (PostgreSQL stopped in between); then this batch is committed, exactly once
        BatchResult earlier;
        try {
          earlier = writer.committedEarlier(connection(), b, batchId);
        } catch (SQLException e2) {
          e.addSuppressed(e2);
          throw e;
        }
        if (earlier == null) {
          throw e;
        }
        log.info("node {}: batch {} was committed by an earlier attempt whose reply was lost ({}); going on",
            node, batchId, lastError);
        result = earlier;
        databaseReachable = true;
        break;
      } catch (SQLException e) {
        closeConnection();
        lastError = e.getMessage();
        boolean transientError = isTransient(e);
        if (transientError) {
          databaseReachable = !isConnectionError(e);
        } else if (++persistent >= PERSISTENT_ERROR_ATTEMPTS) {
          throw new SQLException("batch " + batchId + " failed " + persistent
              + " times with a non-transient error; the worker stops so that it can be restarted"
              + " (check the database log): " + e.getMessage(), e.getSQLState(), e);
        }
        if (attempt == 1 || attempt % 10 == 0) {
          log.warn("node {}: batch {} not committed (attempt {}, SQLSTATE {}): {}; retrying in {} ms",
              node, batchId, attempt, e.getSQLState(), e.getMessage(), backoffMs);
        }
        TimeUnit.MILLISECONDS.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
    nextBatchId++;
    for (CommitListener l : listeners) {
      l.committed(result);
    }
  }

  private Connection connection() throws SQLException {
    if (conn == null) {
      Connection c = ds.getConnection();
      try {
        writer.prepare(c);
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      conn = c;
    }
    return conn;
  }

  private void closeConnection() {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException ignored) {
        // the connection is being discarded because it failed; its close error adds nothing
      }
      conn = null;
    }
  }

  static boolean isConnectionError(SQLException e) {
    String s = e.getSQLState();
    return s == null || s.startsWith("08") || s.startsWith("57P");
  }

  /** Connection errors, shutdown, serialization failures, deadlocks, resource shortage. */
  static boolean isTransient(SQLException e) {
    String s = e.getSQLState();
    if (s == null) {
      return true; // e.g. HikariCP's "connection is not available" timeout
    }
    return s.startsWith("08") || s.startsWith("40") || s.startsWith("53") || s.startsWith("57")
        || s.startsWith("58") || s.equals("55P03");
  }
}
