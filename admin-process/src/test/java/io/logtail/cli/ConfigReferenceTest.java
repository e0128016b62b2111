package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * docs/config-reference.md is what {@link ConfigReference} generates from the code, and
 * systemd/logtail.env.example lists exactly the environment variables the code reads.
 * {@code -Dlogtail.regen=true} rewrites the document instead of failing.
 */
class ConfigReferenceTest {
  private static final Path ROOT = repoRoot();
  private static final Path DOC = ROOT.resolve("docs/config-reference.md");

  @Test
  void docMatchesTheCode() throws IOException {
    String generated = ConfigReference.generate(LogtailCli.commandLine(), ROOT);
    if (Boolean.getBoolean("logtail.regen")) {
      Files.writeString(DOC, generated);
      return;
    }
    String onDisk = Files.isRegularFile(DOC) ? Files.readString(DOC) : "";
    if (!onDisk.equals(generated)) {
      List<String> want = generated.lines().toList();
      List<String> have = onDisk.lines().toList();
      int i = 0;
      while (i < want.size() && i < have.size() && want.get(i).equals(have.get(i))) {
        i++;
      }
      fail("docs/config-reference.md is out of date with the code (first difference at line " + (i + 1) + ":\n"
          + "  file:      " + (i < have.size() ? have.get(i) : "<end of file>") + "\n"
          + "  generated: " + (i < want.size() ? want.get(i) : "<end of file>") + ").\n"
          + "Regenerate it from the repository root with:\n  " + ConfigReference.REGENERATE + "\n"
          + "(or: mvn -B -o -q -pl admin-process -am test -Dtest=ConfigReferenceTest "
          + "-Dsurefire.failIfNoSpecifiedTests=false -Dlogtail.regen=true)");
    }
  }

  @Test
  void everyVisibleCommandAndOptionIsDocumented() throws IOException {
    String doc = ConfigReference.generate(LogtailCli.commandLine(), ROOT);
    assertFalse(doc.contains(ConfigReference.UNDOCUMENTED),
        "a variable read outside the options has no description in ConfigReference.OTHER_VARIABLES:\n" + doc);
    CommandLine root = LogtailCli.commandLine();
    assertTrue(root.getSubcommands().containsKey("config-reference"));
    assertFalse(doc.contains("## logtail config-reference"), "the hidden command is not for operators");
    assertFalse(doc.contains("${"), "an unresolved picocli variable:\n" + doc);
    check(root, doc);
  }

  private static void check(CommandLine c, String doc) {
    CommandLine.Model.CommandSpec s = c.getCommandSpec();
    if (s.usageMessage().hidden() || s.helpCommand()) {
      return;
    }
    assertTrue(doc.contains("\n## " + s.qualifiedName() + "\n"), "no section for " + s.qualifiedName());
    for (CommandLine.Model.OptionSpec o : s.options()) {
      if (!o.hidden() && !o.usageHelp() && !o.versionHelp()) {
        assertTrue(doc.contains("`" + String.join(", ", o.names())), s.qualifiedName() + " " + o.longestName() + " missing");
      }
    }
    for (CommandLine sub : c.getSubcommands().values()) {
      check(sub, doc);
    }
  }

  @Command(name = "t", subcommands = {Sub.class})
  static final class Top {}

  @Command(name = "sub", description = "A command added later.")
  static final class Sub {
    @Option(names = "--speed", paramLabel = "R", defaultValue = "${env:T_SPEED:-7}", description = "How fast. Default: ${DEFAULT-VALUE}. Env: T_SPEED.")
    int speed;

    @Option(names = "--name", defaultValue = "${env:T_NAME}", description = "A name.")
    String name;

    @Option(names = "--wait", defaultValue = "250ms", description = "Waits ${DEFAULT-VALUE}.")
    String wait;

    @Option(names = "--flag", description = "A flag.")
    boolean flag;
  }

  /** A command added later appears with its options, defaults and variables, whatever the environment. */
  @Test
  void newCommandsArePickedUp() throws IOException {
    String doc = ConfigReference.generate(new CommandLine(new Top()), ROOT);
    assertTrue(doc.contains("\n## t sub\n\nA command added later.\n"), doc);
    assertTrue(doc.contains("| `--speed R` | `7` | `T_SPEED` | How fast. |"), doc);
    assertTrue(doc.contains("| `--name <name>` | (none) | `T_NAME` | A name. |"), doc);
    assertTrue(doc.contains("| `--wait <wait>` | `250ms` |  | Waits 250ms. |"), doc);
    assertTrue(doc.contains("| `--flag` | off |  | A flag. |"), doc);
    assertTrue(doc.contains("| `T_SPEED` | `7` | [`t sub`](#t-sub) `--speed` |"), doc);
  }

  /**
   * systemd/logtail.env.example lists exactly the variables the code reads (each as {@code VAR=} or
   * {@code #VAR=}), and a commented-out example value is the code's default.
   */
  @Test
  void envExampleListsExactlyTheVariablesTheCodeReads() throws IOException {
    Map<String, ConfigReference.EnvVar> read = ConfigReference.envVars(LogtailCli.commandLine(), ROOT);
    assertTrue(read.containsKey("LOGTAIL_DB_URL") && read.containsKey("LOGTAIL_LOG_LEVEL")
        && read.containsKey("LOGTAIL_JAVA_OPTS") && read.containsKey("LOGTAIL_ARGS"), read.keySet().toString());
    String example = Files.readString(ROOT.resolve("systemd/logtail.env.example"));
    Map<String, String> listed = new TreeMap<>();
    Matcher m = Pattern.compile("(?m)^(#?)(LOGTAIL_[A-Z0-9_]+)=(.*)$").matcher(example);
    while (m.find()) {
      listed.put(m.group(2), m.group(1).isEmpty() ? null : m.group(3).strip());
    }
    assertEquals(new TreeSet<>(read.keySet()), new TreeSet<>(listed.keySet()),
        "systemd/logtail.env.example must list exactly the variables logtail reads (see docs/config-reference.md)");
    for (Map.Entry<String, String> e : listed.entrySet()) {
      String commented = e.getValue();
      if (commented != null && !commented.isEmpty()) {
        assertEquals(List.of(commented), read.get(e.getKey()).defaults(),
            "systemd/logtail.env.example shows #" + e.getKey() + "=" + commented + " but the default in the code differs");
      }
    }
  }

  private static Path repoRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("systemd/logtail.service")) && Files.isRegularFile(d.resolve("run-tests"))) {
        return d;
      }
    }
    throw new IllegalStateException("cannot find the repository root above " + Path.of("").toAbsolutePath());
  }
}
