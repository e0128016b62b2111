package io.logtail.worker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shortens the worker's start: loads and initialises, on a background thread, the classes that the
 * binlog (Chronicle Queue, slow to initialise: hundreds of classes and static set-up) and the pipeline
 * need, while the main thread connects to the database and runs the migrations (classes of other
 * libraries). The main thread {@link #await()}s it before it builds the worker, so the two threads never
 * initialise the worker's classes at the same time. Failures only cost the time they would have saved:
 * the classes load again when used.
 */
final class StartupWarmup {
  private static final Logger log = LoggerFactory.getLogger(StartupWarmup.class);
  private static final String[] CLASSES = {
    "net.openhft.chronicle.core.Jvm",
    "net.openhft.chronicle.bytes.Bytes",
    "net.openhft.chronicle.wire.WireType",
    "net.openhft.chronicle.queue.RollCycles",
    "net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder",
    "net.openhft.chronicle.queue.impl.single.SingleChronicleQueue",
    "io.logtail.binlog.Binlog",
    "io.logtail.binlog.BinlogCodec",
    "io.logtail.parse.LogFormat",
    "io.logtail.event.LineProcessor",
    "io.logtail.tail.Tailer",
  };

  private final Thread thread;

  private StartupWarmup() {
    thread = new Thread(StartupWarmup::load, "logtail-warmup");
    thread.setDaemon(true);
  }

  static StartupWarmup start() {
    StartupWarmup w = new StartupWarmup();
    w.thread.start();
    return w;
  }

  /** Waits until the warm-up is done. */
  void await() throws InterruptedException {
    thread.join();
  }

  private static void load() {
    ClassLoader cl = StartupWarmup.class.getClassLoader();
    for (String c : CLASSES) {
      try {
        Class.forName(c, true, cl);
      } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
        log.debug("warm-up could not initialise {}: {}", c, e.toString());
      }
    }
  }
}
