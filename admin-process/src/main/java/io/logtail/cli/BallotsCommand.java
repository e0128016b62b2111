package io.logtail.cli;

import io.logtail.db.Database;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code logtail ballots}: the ballots and their choices (reference data). */
@Command(name = "ballots", mixinStandardHelpOptions = true,
    description = "Manages the ballots and their choices (reference data checked by the worker).",
    subcommands = {BallotsCommand.Load.class})
public final class BallotsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** A line of a ballots file that cannot be loaded. */
  public static final class ParseException extends Exception {
    private final int line;

    ParseException(String source, int line, String message) {
      super(source + ":" + line + ": " + message);
      this.line = line;
    }

    /** The 1-based line number. */
    public int line() {
      return line;
    }
  }

  /** Ballot names as the beacons carry them. */
  static final String BALLOT_PATTERN = "[A-Za-z0-9._-]{1,64}";

  /**
   * Parses a ballots file: one ballot a line, {@code ballot choice1 choice2 ...} separated by
   * whitespace; blank lines and everything from a {@code #} are ignored. A ballot needs at least one
   * choice, may appear only once, and lists each choice once.
   *
   * @param source the file name, for messages
   * @return ballot → choices, in file order
   * @throws ParseException naming the first bad line
   */
  public static Map<String, List<String>> parse(Reader in, String source) throws IOException, ParseException {
    Map<String, List<String>> ballots = new LinkedHashMap<>();
    Map<String, Integer> lineOf = new HashMap<>();
    BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
    String text;
    int n = 0;
    while ((text = r.readLine()) != null) {
      n++;
      int hash = text.indexOf('#');
      if (hash >= 0) {
        text = text.substring(0, hash);
      }
      text = text.strip();
      if (text.isEmpty()) {
        continue;
      }
      String[] words = text.split("\\s+");
      String ballot = words[0];
      if (!ballot.matches(BALLOT_PATTERN)) {
        throw new ParseException(source, n, "ballot '" + ballot
            + "' is not a ballot identifier (1 to 64 of letters, digits, '.', '_', '-')");
      }
      if (words.length < 2) {
        throw new ParseException(source, n, "ballot " + ballot
            + " has no choices; write 'ballot choice1 choice2 ...' on one line");
      }
      Integer earlier = lineOf.putIfAbsent(ballot, n);
      if (earlier != null) {
        throw new ParseException(source, n, "ballot " + ballot + " is already listed on line " + earlier
            + "; list each ballot once, with all its choices");
      }
      Set<String> choices = new LinkedHashSet<>();
      for (int i = 1; i < words.length; i++) {
        if (words[i].length() > 256) {
          throw new ParseException(source, n, "choice " + i + " of ballot " + ballot + " is longer than 256 characters");
        }
        if (!choices.add(words[i])) {
          throw new ParseException(source, n, "choice '" + words[i] + "' of ballot " + ballot + " is listed twice");
        }
      }
      ballots.put(ballot, new ArrayList<>(choices));
    }
    return ballots;
  }

  /** {@code logtail ballots load FILE}. */
  @Command(name = "load", mixinStandardHelpOptions = true,
      description = {
        "Loads ballots and their choices: one ballot a line, 'ballot choice1 choice2 ...' separated by",
        "whitespace; blank lines and '#' comments are ignored. Each ballot in the file is inserted, or",
        "replaces the choices it had; ballots not in the file are left as they are. One transaction.",
        "Once `ballots` has rows, the worker rejects votes of other ballots (unknown_ballot) and of",
        "choices not listed (unknown_choice).",
        "",
        "Exit status: 0 loaded; 1 the file is bad (line number given; nothing loaded) or the database",
        "failed; 2 bad options."
      })
  public static final class Load implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The ballots file.")
    Path file;

    @Mixin DbOptions db = new DbOptions();

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      PrintWriter out = spec.commandLine().getOut();
      if (!InputFiles.readable(file, err, "ballots load", "ballots file")) {
        return 2;
      }
      Map<String, List<String>> ballots;
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        ballots = parse(r, file.toString());
      } catch (ParseException e) {
        err.println("logtail ballots load: " + e.getMessage() + "; nothing was loaded");
        return 1;
      } catch (IOException e) {
        err.println("logtail ballots load: cannot read " + file + ": " + e + " (is it UTF-8 text?)");
        return 1;
      }
      if (ballots.isEmpty()) {
        err.println("logtail ballots load: " + file + " lists no ballot; nothing was loaded");
        return 1;
      }
      try (Database d = db.open(); Connection c = d.connection()) {
        c.setAutoCommit(false);
        int inserted = 0;
        int replaced = 0;
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO ballots (ballot, choices) VALUES (?, ?)
            ON CONFLICT (ballot) DO UPDATE SET choices = EXCLUDED.choices
            RETURNING (xmax = 0)""")) {
          for (Map.Entry<String, List<String>> e : ballots.entrySet()) {
            Array arr = c.createArrayOf("text", e.getValue().toArray());
            ps.setString(1, e.getKey());
            ps.setArray(2, arr);
            try (var rs = ps.executeQuery()) {
              rs.next();
              if (rs.getBoolean(1)) {
                inserted++;
              } else {
                replaced++;
              }
            }
          }
          c.commit();
        } catch (Exception e) {
          c.rollback();
          throw e;
        }
        out.printf("%d ballots loaded from %s (%d new, %d replaced)%n", ballots.size(), file, inserted, replaced);
        return 0;
      } catch (Exception e) {
        err.println("logtail ballots load: failed, nothing was loaded: " + e
            + " (check the database options: " + db.describe() + ")");
        return 1;
      }
    }
  }
}
