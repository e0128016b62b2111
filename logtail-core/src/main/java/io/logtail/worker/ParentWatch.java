package io.logtail.worker;

import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a worker that runs under an admin process stop when that admin dies, however it dies (SIGKILL
 * included), instead of running on as an orphan that holds the binlog and keeps a restarted admin from
 * starting its own worker.
 *
 * <p>The admin starts the worker with its standard input a pipe whose write end only the admin holds,
 * and with the environment variable {@value #ENV} set to its pid. The watch thread reads that pipe; it
 * never carries data, so the read returns end-of-file exactly when the kernel closes the admin's end:
 * when the admin process is gone. The worker then stops as on SIGTERM (the batch in flight is committed,
 * the binlog synced, exit 0); exactly-once holds either way. A worker started without {@value #ENV}
 * (by hand, by {@code logtail run --in-process}, by the tests) does not watch its standard input.
 */
public final class ParentWatch {
  private static final Logger log = LoggerFactory.getLogger(ParentWatch.class);
  /** Set by the admin process to its pid: the worker's standard input is the admin's pipe. */
  public static final String ENV = "LOGTAIL_ADMIN_PID";

  private ParentWatch() {}

  /** Starts the watch when {@value #ENV} is set; {@code onParentGone} runs once, on the watch thread. */
  public static void startIfSupervised(Runnable onParentGone) {
    String admin = System.getenv(ENV);
    if (admin == null || admin.isBlank()) {
      return;
    }
    start(System.in, admin.trim(), onParentGone);
  }

  static Thread start(InputStream pipe, String adminPid, Runnable onParentGone) {
    Thread t = new Thread(() -> {
      String why;
      try {
        byte[] buf = new byte[256];
        while (pipe.read(buf) >= 0) {
          // the admin writes nothing; any bytes are ignored
        }
        why = "end of file";
      } catch (IOException e) {
        why = e.toString();
      }
      log.warn("the admin process (pid {}) is gone ({} on the worker's standard input): stopping after the current batch",
          adminPid, why);
      onParentGone.run();
    }, "logtail-parent-watch");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
