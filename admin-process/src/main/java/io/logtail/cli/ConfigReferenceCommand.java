package io.logtail.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code logtail config-reference} (hidden): prints docs/config-reference.md as the code defines it.
 * Regenerate the document with {@code ./logtail config-reference > docs/config-reference.md}.
 */
@Command(name = "config-reference", hidden = true, mixinStandardHelpOptions = true,
    description = "Prints docs/config-reference.md, generated from the code (every command, option, default and variable).")
public final class ConfigReferenceCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--root", paramLabel = "DIR", defaultValue = "${env:LOGTAIL_HOME:-.}",
      description = "The logtail checkout (holds the launcher and systemd/). Default: the launcher's directory.")
  Path root;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(root.resolve("logtail")) || !Files.isRegularFile(root.resolve("systemd/logtail.service"))) {
      spec.commandLine().getErr().println("logtail config-reference: " + root.toAbsolutePath()
          + " is not the logtail checkout (no launcher or systemd/logtail.service); give it with --root");
      return 2;
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(ConfigReference.generate(LogtailCli.commandLine(), root));
    out.flush();
    return 0;
  }
}
