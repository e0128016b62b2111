package io.logtail.cli;

import io.logtail.admin.AdminOptions;
import io.logtail.admin.AdminProcess;
import io.logtail.worker.WorkerMain;
import io.logtail.worker.WorkerOptions;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code logtail run}: the main job. Starts the admin process, which runs the worker as a child JVM,
 * restarts it when it dies or hangs, fsyncs the logs and serves the status port; or, with
 * {@code --in-process}, the worker alone in this JVM.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {
      "Tails nginx access logs into PostgreSQL, exactly once, until stopped (SIGTERM or Ctrl-C).",
      "Runs the worker as a child JVM under an admin process that restarts it and serves the status port",
      "(--status-addr); --in-process runs the worker in this JVM instead, without either.",
      "Without --db-url an embedded PostgreSQL runs under --data-dir.",
      "Exit status: 0 after a clean stop; 1 when stopped after giving up on a crash-looping worker;",
      "2 for bad options."
    })
public final class RunCommand implements Callable<Integer> {
  @Mixin WorkerOptions options = new WorkerOptions();
  @Mixin AdminOptions admin = new AdminOptions();

  @Option(names = "--in-process", description = "Run the worker in this JVM (no admin process, no status port).")
  boolean inProcess;

  @Override
  public Integer call() throws Exception {
    if (inProcess) {
      WorkerMain w = new WorkerMain();
      w.options = options;
      return w.call();
    }
    AdminProcess a = new AdminProcess(options, admin);
    for (String sig : new String[] {"TERM", "INT"}) {
      sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> a.stop());
    }
    try {
      a.start();
    } catch (IllegalArgumentException e) {
      System.err.println("logtail run: " + e.getMessage());
      return 2;
    }
    while (!a.awaitStopped(Duration.ofSeconds(1))) {
      // runs until SIGTERM
    }
    return a.exitStatus();
  }
}
