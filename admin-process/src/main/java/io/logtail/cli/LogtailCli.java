package io.logtail.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./logtail} command line: one subcommand per task an operator runs. */
@Command(
    name = "logtail",
    mixinStandardHelpOptions = true,
    versionProvider = LogtailCli.Version.class,
    description = "Tails nginx access logs of beacons into PostgreSQL, exactly once.",
    subcommands = {RunCommand.class, StatusCommand.class, RecoverCommand.class, RollCommand.class, BallotsCommand.class,
        BinlogCommand.class, BenchCommand.class, DemoCommand.class, VerifyCommand.class, CommandLine.HelpCommand.class})
public final class LogtailCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new LogtailCli());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    // hidden, and added here rather than in @Command(subcommands) so that the list above stays the operator's
    cl.addSubcommand(new ConfigReferenceCommand());
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = LogtailCli.class.getPackage().getImplementationVersion();
      return new String[] {"logtail " + (v == null ? "dev" : v)};
    }
  }
}
