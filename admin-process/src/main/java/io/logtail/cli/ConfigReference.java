package io.logtail.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Generates {@code docs/config-reference.md} from the code: walks the picocli model of {@code logtail}
 * (every command and subcommand, as registered: a new command shows up by itself), and reads the
 * environment variables and JVM flags that are not options from where they are set: the launcher
 * script ({@code logtail}), {@link LogConfig} and {@code systemd/logtail.service}.
 *
 * <p>Defaults and variables are read from the raw annotation text ({@code ${env:X:-default}}), with
 * variable interpolation off, so the output does not depend on the environment it runs in.
 * {@code ConfigReferenceTest} fails when the document differs from this output.
 */
public final class ConfigReference {
  /** The command that regenerates the document, for messages. */
  public static final String REGENERATE = "./logtail config-reference > docs/config-reference.md";

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(?::-(.*))?}");
  private static final Pattern SCRIPT_VAR = Pattern.compile("\\$\\{?(LOGTAIL_[A-Z0-9_]+)(?::-([^}]*))?}?");
  private static final Pattern UNIT_ENV = Pattern.compile("(?m)^Environment=(LOGTAIL_[A-Z0-9_]+)=(.*)$");
  private static final Pattern UNIT_EXEC_VAR = Pattern.compile("(?m)^ExecStart=.*\\$\\{?(LOGTAIL_[A-Z0-9_]+)");

  /** What the variables read outside picocli do; a new one without an entry here fails ConfigReferenceTest. */
  private static final Map<String, String> OTHER_VARIABLES = Map.of(
      "LOGTAIL_LOG_LEVEL", "Log level of logtail's own messages (stderr, the journal under systemd): ERROR, WARN, INFO,"
          + " DEBUG, TRACE. Read by every logtail JVM, the worker's included (it inherits the"
          + " environment); `-Dlogback.configurationFile=FILE` in LOGTAIL_JAVA_OPTS replaces logtail's logging set-up"
          + " with that file's.",
      "LOGTAIL_JAVA_OPTS", "Extra JVM options of the JVM the launcher starts (e.g. -Xmx1g): the admin process under"
          + " `logtail run`, not the worker JVM, whose heap is `--worker-heap`.",
      "LOGTAIL_ARGS", "The arguments of `logtail run` in the systemd unit (ExecStart=/opt/logtail/logtail run"
          + " $LOGTAIL_ARGS): split at whitespace, no shell. Options without a variable go here.");

  /** A placeholder that ConfigReferenceTest looks for: the output must never contain it. */
  static final String UNDOCUMENTED = "UNDOCUMENTED";

  private ConfigReference() {}

  /** An environment variable and where it is read. */
  public record EnvVar(String name, List<String> defaults, List<String> readBy, String description) {}

  /** The document for the command tree of {@code root}; {@code repoRoot} holds the launcher and systemd/. */
  public static String generate(CommandLine root, Path repoRoot) throws IOException {
    root.setInterpolateVariables(false);
    StringBuilder b = new StringBuilder();
    b.append("# Configuration reference\n\n");
    b.append("<!-- Generated from the code by io.logtail.cli.ConfigReference; do not edit by hand.\n");
    b.append("     Regenerate: ").append(REGENERATE).append(" -->\n\n");
    b.append(INTRO.replace("@REGENERATE@", REGENERATE));

    List<CommandLine> commands = new ArrayList<>();
    collect(root, commands);

    b.append("## Commands\n\n");
    for (CommandLine c : commands) {
      String name = c.getCommandSpec().qualifiedName();
      String summary = summary(c.getCommandSpec().usageMessage().description());
      b.append("- [`").append(name).append("`](#").append(anchor(name)).append(")");
      if (!summary.isEmpty()) {
        b.append(": ").append(escape(summary));
      }
      b.append('\n');
    }
    b.append('\n');

    for (CommandLine c : commands) {
      command(b, c.getCommandSpec());
    }

    b.append("## Environment variables\n\n");
    b.append("Every variable logtail reads, with the options it sets. The template of the environment file is\n");
    b.append("[systemd/logtail.env.example](../systemd/logtail.env.example).\n\n");
    b.append("| Variable | Default | Read by | What |\n|---|---|---|---|\n");
    for (EnvVar v : envVars(root, repoRoot).values()) {
      b.append("| `").append(v.name()).append("` | ").append(v.defaults().isEmpty() ? "(none)" : String.join(" / ",
          v.defaults().stream().map(ConfigReference::code).toList())).append(" | ")
          .append(String.join(", ", v.readBy())).append(" | ").append(escape(v.description())).append(" |\n");
    }
    b.append('\n');

    b.append("## JVM flags\n\n");
    b.append("The launcher (`./logtail`) starts `java` with these flags, then `$LOGTAIL_JAVA_OPTS`, then the\n");
    b.append("class path and `io.logtail.cli.LogtailCli`:\n\n");
    for (String f : launcherFlags(repoRoot)) {
      b.append("- `").append(f).append("`\n");
    }
    b.append("\nThe admin process of `logtail run` starts the worker JVM (`io.logtail.worker.WorkerMain`) with its own\n");
    b.append("`--add-opens`, `--add-exports` and `-Dchronicle.*` flags, `-Xmx` from `--worker-heap`, the same class\n");
    b.append("path, the worker options of `logtail run` as flags (the password only in the environment, as\n");
    b.append("`LOGTAIL_DB_PASSWORD`), and `--status-file <data-dir>/worker-status.json`. Other flags of\n");
    b.append("`LOGTAIL_JAVA_OPTS` (such as `-Xmx`) are not passed on. It adds the class-data archive flags\n");
    b.append("(`-XX:ArchiveClassesAtExit` on the first start, `-XX:SharedArchiveFile` later, under `<data-dir>/cds`;\n");
    b.append("`io.logtail.admin.ClassDataArchive`): a restarted worker maps its classes instead of loading them.\n");
    return b.toString();
  }

  private static final String INTRO = """
      Every option of every `logtail` command, its default and its environment variable. This file is
      generated from the code (the picocli model of `io.logtail.cli.LogtailCli`, the launcher, LogConfig
      and systemd/logtail.service); `ConfigReferenceTest` fails when it is out of date. Regenerate it with

          @REGENERATE@

      or `mvn -B -o -q -pl admin-process -am test -Dtest=ConfigReferenceTest -Dsurefire.failIfNoSpecifiedTests=false -Dlogtail.regen=true`.

      ## How options are read

      - **Flag, then variable, then default.** An option given on the command line wins. Otherwise an
        option with a variable (column *Environment*) takes the variable's value when it is set, and
        the default when it is not. A variable set to the empty string is set: `KEY=` gives the empty
        value, not the default; comment the line out instead. Options without a variable are flags only
        (under systemd: put them in `LOGTAIL_ARGS`).
      - **Where the variables come from.** Under systemd, from `/etc/logtail/logtail.env` (an
        `EnvironmentFile=`; template and format in
        [systemd/logtail.env.example](../systemd/logtail.env.example)). The unit itself sets
        `LOGTAIL_DATA_DIR=/var/lib/logtail`, which the file can override. Outside systemd, from the shell.
      - **The worker JVM** of `logtail run` gets the worker options as flags from the admin process, so it
        sees the values the admin process read; the password is passed in its environment only.
      - **Durations** (`--flush-interval`, `--timeout`, ...): a number with a unit, `250ms`, `1s`, `5m`,
        `1h`, or ISO-8601 such as `PT1.5S`. A bare number is an error.
      - **Sizes**: options ending in `-bytes` take a number of bytes (`33554432` is 32 MiB; no suffixes).
        `--worker-heap` takes a JVM heap size as `-Xmx` does (`256m`, `1g`).
      - Every command also takes `-h`/`--help` (its usage, the same text as here) and `-V`/`--version`.

      """;

  /** The first sentence of a command's description (its lines are wrapped mid-sentence). */
  private static String summary(String[] description) {
    StringBuilder p = new StringBuilder();
    for (String line : description) {
      if (line.isBlank()) {
        break;
      }
      p.append(p.length() == 0 ? "" : " ").append(line.strip());
    }
    Matcher m = Pattern.compile("\\.(\\s|$)").matcher(p);
    return m.find() ? p.substring(0, m.start() + 1) : p.toString();
  }

  private static void collect(CommandLine c, List<CommandLine> out) {
    CommandSpec s = c.getCommandSpec();
    if (s.usageMessage().hidden() || s.helpCommand()) {
      return;
    }
    out.add(c);
    for (CommandLine sub : new LinkedHashSet<>(c.getSubcommands().values())) {
      collect(sub, out);
    }
  }

  private static void command(StringBuilder b, CommandSpec s) {
    String name = s.qualifiedName();
    b.append("## ").append(name).append("\n\n");
    for (String line : s.usageMessage().description()) {
      b.append(escape(line.stripTrailing())).append('\n');
    }
    List<ArgSpec> args = new ArrayList<>();
    for (PositionalParamSpec p : s.positionalParameters()) {
      if (!p.hidden()) {
        args.add(p);
      }
    }
    for (OptionSpec o : s.options()) {
      if (!o.hidden() && !o.usageHelp() && !o.versionHelp()) {
        args.add(o);
      }
    }
    if (!s.subcommands().isEmpty()) {
      b.append("\nSubcommands: ");
      List<String> subs = new ArrayList<>();
      for (CommandLine sub : new LinkedHashSet<>(s.subcommands().values())) {
        CommandSpec ss = sub.getCommandSpec();
        if (!ss.usageMessage().hidden() && !ss.helpCommand()) {
          subs.add("[`" + ss.qualifiedName() + "`](#" + anchor(ss.qualifiedName()) + ")");
        }
      }
      b.append(String.join(", ", subs)).append(".\n");
    }
    if (args.isEmpty()) {
      b.append("\nNo options besides `--help` and `--version`.\n\n");
      return;
    }
    b.append("\n| Option | Default | Environment | Description |\n|---|---|---|---|\n");
    for (ArgSpec a : args) {
      Default d = Default.of(a);
      b.append("| ").append(synopsis(a)).append(" | ").append(d.shown(a)).append(" | ")
          .append(d.env == null ? "" : "`" + d.env + "`").append(" | ").append(escape(description(a, d))).append(" |\n");
    }
    b.append('\n');
  }

  /** The default and the variable of an option, from its raw {@code defaultValue}. */
  private record Default(String value, String env) {
    static Default of(ArgSpec a) {
      String raw = a.defaultValue();
      if (raw == null) {
        return new Default(null, null);
      }
      Matcher m = ENV_DEFAULT.matcher(raw);
      if (m.matches()) {
        return new Default(m.group(2), m.group(1));
      }
      return new Default(raw, null);
    }

    String shown(ArgSpec a) {
      if (value != null) {
        return code(value);
      }
      if (a.required()) {
        return "required";
      }
      if (a.arity().max == 0) {
        return "off";
      }
      return "(none)";
    }
  }

  private static String synopsis(ArgSpec a) {
    String label = a.paramLabel();
    if (a instanceof PositionalParamSpec) {
      return "`" + label.replace("|", "\\|") + "` (argument)";
    }
    OptionSpec o = (OptionSpec) a;
    String names = String.join(", ", o.names());
    // a | even inside a code span ends a table cell unless escaped (GitHub tables)
    return "`" + (o.arity().max == 0 ? names : names + " " + label).replace("|", "\\|") + "`";
  }

  private static String description(ArgSpec a, Default d) {
    String text = String.join(" ", a.description()).strip();
    if (d.env != null) {
      text = text.replace(" Env: " + d.env + ".", "").replace("Env: " + d.env + ".", "");
    }
    text = text.replace(" Default: ${DEFAULT-VALUE}.", "").replace("Default: ${DEFAULT-VALUE}.", "");
    text = text.replace("${DEFAULT-VALUE}", d.value == null ? "none" : d.value);
    if (a instanceof OptionSpec o && o.isMultiValue()) {
      text = text.endsWith("Repeatable.") ? text : text + " Repeatable.";
    }
    return text.strip();
  }

  /**
   * Every environment variable logtail reads, by name: those of the options (from their defaults), of
   * the logging set-up ({@link LogConfig}), of the launcher and of the systemd unit.
   */
  public static Map<String, EnvVar> envVars(CommandLine root, Path repoRoot) throws IOException {
    root.setInterpolateVariables(false);
    List<CommandLine> commands = new ArrayList<>();
    collect(root, commands);
    Map<String, Set<String>> defaults = new TreeMap<>();
    Map<String, Set<String>> readBy = new TreeMap<>();
    Map<String, String> descriptions = new TreeMap<>();
    for (CommandLine c : commands) {
      CommandSpec s = c.getCommandSpec();
      for (OptionSpec o : s.options()) {
        Default d = Default.of(o);
        if (d.env == null) {
          continue;
        }
        if (d.value != null) {
          defaults.computeIfAbsent(d.env, k -> new LinkedHashSet<>()).add(d.value);
        }
        readBy.computeIfAbsent(d.env, k -> new LinkedHashSet<>())
            .add("[`" + s.qualifiedName() + "`](#" + anchor(s.qualifiedName()) + ") `" + o.longestName() + "`");
        descriptions.putIfAbsent(d.env, description(o, d));
      }
    }
    defaults.computeIfAbsent(LogConfig.LEVEL_ENV, k -> new LinkedHashSet<>()).add(LogConfig.DEFAULT_LEVEL);
    readBy.computeIfAbsent(LogConfig.LEVEL_ENV, k -> new LinkedHashSet<>()).add("every logtail JVM (`LogConfig`)");
    descriptions.put(LogConfig.LEVEL_ENV, OTHER_VARIABLES.getOrDefault(LogConfig.LEVEL_ENV, UNDOCUMENTED));
    String launcher = Files.readString(repoRoot.resolve("logtail"));
    other(SCRIPT_VAR.matcher(launcher), "the launcher (`./logtail`)", defaults, readBy, descriptions);
    String unit = Files.readString(repoRoot.resolve("systemd/logtail.service"));
    Matcher m = UNIT_EXEC_VAR.matcher(unit);
    while (m.find()) {
      readBy.computeIfAbsent(m.group(1), k -> new LinkedHashSet<>()).add("systemd/logtail.service");
      descriptions.put(m.group(1), OTHER_VARIABLES.getOrDefault(m.group(1), UNDOCUMENTED));
    }
    m = UNIT_ENV.matcher(unit);
    while (m.find()) {
      readBy.computeIfAbsent(m.group(1), k -> new LinkedHashSet<>()).add("systemd/logtail.service sets it to `"
          + m.group(2) + "`");
    }
    Map<String, EnvVar> out = new LinkedHashMap<>();
    for (Map.Entry<String, Set<String>> e : readBy.entrySet()) {
      String v = e.getKey();
      out.put(v, new EnvVar(v, List.copyOf(defaults.getOrDefault(v, Set.of())), List.copyOf(e.getValue()),
          descriptions.getOrDefault(v, UNDOCUMENTED)));
    }
    return out;
  }

  private static void other(Matcher m, String where, Map<String, Set<String>> defaults, Map<String, Set<String>> readBy,
      Map<String, String> descriptions) {
    while (m.find()) {
      String v = m.group(1);
      if (m.group(2) != null && !m.group(2).isEmpty()) {
        defaults.computeIfAbsent(v, k -> new LinkedHashSet<>()).add(m.group(2));
      }
      readBy.computeIfAbsent(v, k -> new LinkedHashSet<>()).add(where);
      descriptions.put(v, OTHER_VARIABLES.getOrDefault(v, UNDOCUMENTED));
    }
  }

  /** The flags in the launcher's {@code jvm_flags=( ... )} array. */
  public static List<String> launcherFlags(Path repoRoot) throws IOException {
    List<String> flags = new ArrayList<>();
    boolean in = false;
    for (String line : Files.readAllLines(repoRoot.resolve("logtail"))) {
      String t = line.strip();
      if (!in) {
        in = t.startsWith("jvm_flags=(");
        if (in) {
          t = t.substring("jvm_flags=(".length()).strip();
        } else {
          continue;
        }
      }
      boolean end = t.endsWith(")");
      if (end) {
        t = t.substring(0, t.length() - 1);
      }
      if (!t.startsWith("#")) {
        for (String w : t.split("\\s+")) {
          if (!w.isEmpty()) {
            flags.add(w);
          }
        }
      }
      if (end) {
        break;
      }
    }
    if (flags.isEmpty()) {
      throw new IOException("no jvm_flags=( ... ) array in " + repoRoot.resolve("logtail"));
    }
    return flags;
  }

  /** GitHub's anchor of a heading. */
  static String anchor(String heading) {
    return heading.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9 _-]", "").replace(' ', '-');
  }

  private static String code(String s) {
    return s.isEmpty() ? "(empty)" : "`" + s.replace("|", "\\|") + "`";
  }

  /** Markdown-safe text: no table breaks, no HTML tags, no emphasis from globs. */
  private static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    boolean inCode = false;
    for (char ch : s.toCharArray()) {
      if (ch == '`') {
        inCode = !inCode;
      }
      if (!inCode && (ch == '|' || ch == '<' || ch == '>' || ch == '*' || ch == '\\' || ch == '[' || ch == ']')) {
        b.append('\\');
      }
      b.append(ch);
    }
    return b.toString();
  }
}
