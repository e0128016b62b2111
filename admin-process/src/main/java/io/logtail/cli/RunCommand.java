package io.logtail.cli;

import io.logtail.worker.WorkerMain;
import io.logtail.worker.WorkerOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code logtail run}: the main job. Tails the logs into PostgreSQL until stopped. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {
      "Tails nginx access logs into PostgreSQL, exactly once, until stopped (SIGTERM or Ctrl-C).",
      "Without --db-url an embedded PostgreSQL runs under --data-dir."
    })
public final class RunCommand implements Callable<Integer> {
  @Mixin WorkerOptions options = new WorkerOptions();

  @Override
  public Integer call() throws Exception {
    WorkerMain w = new WorkerMain();
    w.options = options;
    return w.call();
  }
}
