package io.logtail.cli;

import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./logtail} command line: one subcommand per task an operator runs. */
@Command(
    name = "logtail",
    mixinStandardHelpOptions = true,
    versionProvider = LogtailCli.Version.class,
    description = "Tails nginx access logs of beacons into PostgreSQL, exactly once.",
    subcommands = {RunCommand.class, StatusCommand.class, RecoverCommand.class, RollCommand.class, BallotsCommand.class,
        BinlogCommand.class, BenchCommand.class, DemoCommand.class, VerifyCommand.class, PublishCommand.class, CommandLine.HelpCommand.class})
public final class LogtailCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new LogtailCli());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    // A command that fails says why in one line (logtail's exceptions say what to do); the stack
    // trace goes to the log at DEBUG (LOGTAIL_LOG_LEVEL=DEBUG shows it).
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      String name = cmd.getCommandSpec().qualifiedName();
      LoggerFactory.getLogger(LogtailCli.class).debug("{} failed", name, e);
      cmd.getErr().println(name + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      cmd.getErr().flush();
      return 1;
    });
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
