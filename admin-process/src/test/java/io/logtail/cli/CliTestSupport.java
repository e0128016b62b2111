package io.logtail.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the CLI in this JVM, capturing what it prints. */
final class CliTestSupport {
  record Run(int exit, String out, String err) {}

  private CliTestSupport() {}

  static Run run(String... args) {
    CommandLine cl = LogtailCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }
}
