package io.logtail.cli;

import io.logtail.db.Database;
import io.logtail.reference.RollLoader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code logtail roll}: the voter roll (reference data). */
@Command(name = "roll", mixinStandardHelpOptions = true,
    description = "Manages the voter roll (reference data checked by the worker).",
    subcommands = {RollCommand.Load.class})
public final class RollCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code logtail roll load FILE}. */
  @Command(name = "load", mixinStandardHelpOptions = true,
      description = {
        "Loads a voter roll: one SHA-256 voter hash (64 hex digits) per line; blank lines and lines",
        "starting with # are ignored. One transaction: the roll is loaded whole or not at all.",
        "Hashes already on the roll under the scope are kept once.",
        "",
        "Exit status: 0 loaded; 1 the file is bad (line number given; nothing loaded) or the database",
        "failed; 2 bad options."
      })
  public static final class Load implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The roll file.")
    Path file;

    @Option(names = "--scope", paramLabel = "'*'|BALLOT", defaultValue = "*",
        description = "'*' for the whole election (default), or the ballot the roll is for.")
    String scope;

    @Mixin DbOptions db = new DbOptions();

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      PrintWriter out = spec.commandLine().getOut();
      if (!InputFiles.readable(file, err, "roll load", "roll file")) {
        return 2;
      }
      if (!(scope.equals("*") || scope.matches("[A-Za-z0-9._-]{1,64}"))) {
        err.println("logtail roll load: --scope must be '*' (quote it in the shell) or a ballot identifier"
            + " (1 to 64 of letters, digits, '.', '_', '-'); was " + scope);
        return 2;
      }
      long t0 = System.nanoTime();
      try (Database d = db.open()) {
        err.println("logtail roll load: loading " + file + " into " + db.describe() + " (scope " + scope + ")");
        err.flush();
        long rows = RollLoader.load(d.dataSource(), file, scope, lines -> {
          double s = (System.nanoTime() - t0) / 1e9;
          err.printf("  %,d lines read (%.1f s, %,.0f lines/s)%n", lines, s, lines / Math.max(s, 1e-9));
          err.flush();
        });
        double s = (System.nanoTime() - t0) / 1e9;
        out.printf("%,d voters loaded into scope %s in %.2f s (%,.0f rows/s)%n", rows, scope, s, rows / Math.max(s, 1e-9));
        return 0;
      } catch (IllegalArgumentException e) {
        err.println("logtail roll load: " + e.getMessage());
        return 1;
      } catch (Exception e) {
        err.println("logtail roll load: failed, nothing was loaded: " + e
            + " (check the database options: " + db.describe() + ")");
        return 1;
      }
    }
  }
}
