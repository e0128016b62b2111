package io.logtail.cli;

import io.logtail.binlog.Binlog;
import io.logtail.binlog.BinlogConfig;
import io.logtail.binlog.BinlogDump;
import io.logtail.binlog.BinlogEntry;
import io.logtail.binlog.BinlogFilter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code logtail binlog}: the log of committed batches. */
@Command(name = "binlog", mixinStandardHelpOptions = true,
    description = "Reads the binlog (the record of every committed batch and its byte ranges).",
    subcommands = {BinlogCommand.Dump.class})
public final class BinlogCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code logtail binlog dump}. */
  @Command(name = "dump", mixinStandardHelpOptions = true,
      description = {
        "Prints the records of <data-dir>/binlog: text blocks (a header line, then one indented line per",
        "byte range), or with --json one JSON object a line. Opens the binlog read-only: safe while the",
        "worker runs. Filters combine (all must hold). The number of records printed, and of corrupt",
        "records skipped, goes to stderr.",
        "",
        "Exit status: 0 printed (possibly nothing); 1 no binlog there or it cannot be read; 2 bad options."
      })
  public static final class Dump implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:LOGTAIL_DATA_DIR:-logtail-data}",
        description = "The worker's data directory; the binlog is its 'binlog' subdirectory. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_DATA_DIR.")
    Path dataDir;

    @Option(names = "--from", paramLabel = "ISO", description = "Only records committed at or after this time: 2026-11-23T08:00:00Z, or a date (UTC midnight).")
    String from;

    @Option(names = "--to", paramLabel = "ISO", description = "Only records committed before this time (same forms as --from).")
    String to;

    @Option(names = "--batch", paramLabel = "A-B", description = "Only batch ids A to B, both included; 'A' alone or 'A-' (to the end) also work.")
    String batch;

    @Option(names = "--file", paramLabel = "SUBSTR", description = "Only records with a range whose path contains SUBSTR.")
    String file;

    @Option(names = "--fingerprint", paramLabel = "HEX", description = "Only records with a range of this stream (16 hex digits, as printed; 0x allowed).")
    String fingerprint;

    @Option(names = "--json", description = "One JSON object a line instead of text.")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      PrintWriter out = spec.commandLine().getOut();
      BinlogFilter filter;
      try {
        filter = filter();
      } catch (IllegalArgumentException e) {
        err.println("logtail binlog dump: " + e.getMessage());
        return 2;
      }
      Path dir = dataDir.resolve("binlog");
      if (!Files.isDirectory(dir)) {
        err.println("logtail binlog dump: no binlog at " + dir
            + "; give the worker's data directory with --data-dir (or LOGTAIL_DATA_DIR)");
        return 1;
      }
      long records = 0;
      long corrupt;
      try (Binlog b = Binlog.open(dir, BinlogConfig.defaults().withReadOnly(true));
          Binlog.BinlogCursor cursor = b.read(filter, true)) {
        // the loop of BinlogDump.dump, keeping the cursor to report the corrupt count on stderr
        while (cursor.hasNext()) {
          BinlogEntry e = cursor.next();
          out.append(json ? BinlogDump.json(e.index(), e.record()) + "\n" : BinlogDump.text(e.record()));
          records++;
        }
        corrupt = cursor.corruptSkipped();
        if (corrupt > 0) {
          out.append(json ? "{\"corruptSkipped\":" + corrupt + "}\n" : "# " + corrupt + " corrupt document(s) skipped\n");
        }
      } catch (RuntimeException e) {
        out.flush();
        err.println("logtail binlog dump: cannot read the binlog at " + dir + ": " + e.getMessage()
            + " (is it a logtail binlog directory?)");
        return 1;
      }
      out.flush();
      err.println(records + " record(s) printed, " + corrupt + " corrupt record(s) skipped");
      err.flush();
      return 0;
    }

    BinlogFilter filter() {
      BinlogFilter f = BinlogFilter.all();
      Instant a = from == null ? null : instant("--from", from);
      Instant z = to == null ? null : instant("--to", to);
      if (a != null && z != null && !a.isBefore(z)) {
        throw new IllegalArgumentException("--from " + from + " must be before --to " + to);
      }
      if (a != null || z != null) {
        f = f.time(a, z);
      }
      if (batch != null) {
        f = batches(f, batch);
      }
      if (file != null) {
        if (file.isEmpty()) {
          throw new IllegalArgumentException("--file needs a non-empty part of a path");
        }
        f = f.pathContains(file);
      }
      if (fingerprint != null) {
        String h = fingerprint.startsWith("0x") || fingerprint.startsWith("0X") ? fingerprint.substring(2) : fingerprint;
        if (!h.matches("[0-9a-fA-F]{1,16}")) {
          throw new IllegalArgumentException("--fingerprint must be 1 to 16 hex digits (as binlog dump prints them); was "
              + fingerprint);
        }
        f = f.fingerprint(Long.parseUnsignedLong(h, 16));
      }
      return f;
    }

    private static BinlogFilter batches(BinlogFilter f, String spec) {
      String s = spec.trim();
      try {
        int dash = s.indexOf('-');
        long lo;
        long hi;
        if (dash < 0) {
          lo = hi = Long.parseLong(s);
        } else {
          lo = Long.parseLong(s.substring(0, dash).trim());
          String rest = s.substring(dash + 1).trim();
          hi = rest.isEmpty() ? Long.MAX_VALUE : Long.parseLong(rest);
        }
        if (lo < 0 || hi < lo) {
          throw new IllegalArgumentException("--batch A-B needs 0 <= A <= B; was " + spec);
        }
        return f.batches(lo, hi);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--batch must be A-B (e.g. 100-200), A, or A- ; was " + spec);
      }
    }

    private static Instant instant(String opt, String s) {
      try {
        return Instant.parse(s);
      } catch (DateTimeParseException e) {
        try {
          return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e2) {
          throw new IllegalArgumentException(opt + " must be an ISO-8601 time in UTC such as 2026-11-23T08:00:00Z, "
              + "or a date such as 2026-11-23; was " + s);
        }
      }
    }
  }
}
