package io.logtail.cli;

import io.logtail.db.Database;
import io.logtail.verify.ClusterCheck;
import io.logtail.verify.Verifier;
import java.io.PrintWriter;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code logtail verify}: re-reads the logs independently of the worker and reconciles them with the
 * database (see {@link Verifier}).
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {
      "Re-reads the logs (current and rotated, .gz included) independently of the worker's state and",
      "reconciles them with the database: per file and source, lines, events by kind, rejects by reason,",
      "the rows of every line (by source and byte offset), tallies per ballot and choice, duplicate",
      "attempts, the batches' counters, the committed offsets. Read-only; safe while logtail runs",
      "(then use --allow-lag). Progress on stderr, the report on stdout.",
      "Several nodes of one database: --node-id A --log ... --node-id B --log ...: each node's lines are",
      "reconciled (other nodes' rows count as committed before its log), then vote_tallies, the rows and",
      "the batches of all nodes are checked against the sums over all the nodes' logs.",
      "Exit status: 0 when they agree; 1 for differences (listed, with the byte ranges of the lines",
      "concerned), or for lag without --allow-lag; 2 for bad options; 3 when a log or the database cannot",
      "be read."
    })
public final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DbOptions db = new DbOptions();

  /** One node and its logs; repeat the pair for several nodes of one database. */
  static final class NodeLogs {
    @Option(names = "--node-id", paramLabel = "ID", defaultValue = "${env:LOGTAIL_NODE_ID}",
        description = "The node whose rows to check, as given to run; its --log options follow it. Repeat --node-id ID --log ... for every node of the database to check them all and the global tallies against the sum of their logs. Default: the host name. Env: LOGTAIL_NODE_ID.")
    String nodeId;

    @Option(names = "--log", paramLabel = "PATH", required = true,
        description = "Access log to re-read: a path or a glob in the file name, as given to run (e.g. '/var/log/nginx/access.log*'). Repeatable; belongs to the --node-id before it.")
    List<String> logs; // no initial value: picocli would share one list between the groups
  }

  @ArgGroup(exclusive = false, multiplicity = "1..*")
  List<NodeLogs> nodes = new ArrayList<>();

  @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "${env:LOGTAIL_LOG_FORMAT:-combined}",
      description = "The log_format text the logs were written with, as given to run. Default: ${DEFAULT-VALUE}. Env: LOGTAIL_LOG_FORMAT.")
  String logFormat;

  @Option(names = "--max-line-bytes", defaultValue = "65536",
      description = "As given to run: longer lines are rejects line_too_long. Default: ${DEFAULT-VALUE}.")
  int maxLineBytes;

  @Option(names = "--allow-lag",
      description = "Lines not committed yet (the worker is behind) are reported but are not a difference.")
  boolean allowLag;

  @Option(names = "--max-ranges", defaultValue = "10",
      description = "Byte ranges shown per kind of difference; the rest are counted. Default: ${DEFAULT-VALUE}.")
  int maxRanges;

  @Option(names = "--no-progress", description = "No progress lines on stderr.")
  boolean noProgress;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (maxLineBytes < 1024 || maxRanges < 1) {
      err.println("logtail verify: --max-line-bytes must be at least 1024 and --max-ranges at least 1");
      return 2;
    }
    List<Verifier> verifiers = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (NodeLogs n : nodes) {
      io.logtail.worker.WorkerOptions w = new io.logtail.worker.WorkerOptions();
      w.nodeId = n.nodeId;
      Verifier.Options o = new Verifier.Options();
      o.logs = n.logs;
      o.logFormat = logFormat == null || logFormat.isBlank() ? "combined" : logFormat;
      o.node = w.nodeIdOrHostName();
      o.maxLineBytes = maxLineBytes;
      o.allowLag = allowLag;
      o.maxRanges = maxRanges;
      o.progress = !noProgress;
      if (!names.add(o.node)) {
        err.println("logtail verify: node " + o.node + " is given twice: give each node once, with all its --log options"
            + " after its --node-id (with several nodes, every group needs its own --node-id)");
        return 2;
      }
      try {
        verifiers.add(new Verifier(o, out, err));
      } catch (IllegalArgumentException e) {
        err.println("logtail verify: --log-format: " + e.getMessage());
        return 2;
      }
    }
    Database database;
    try {
      database = DatabaseSetup.open(db);
    } catch (RuntimeException e) {
      err.println("logtail verify: cannot open " + db.describe() + ": " + e.getMessage()
          + "; check --db-url/--db-user/LOGTAIL_DB_PASSWORD (or --data-dir and --db-port for the embedded PostgreSQL)");
      return 3;
    }
    try (database; Connection c = database.connection()) {
      if (verifiers.size() == 1) {
        return verifiers.get(0).run(c);
      }
      // several nodes: one snapshot for all, each node's lines reconciled, then the cluster's sums
      Verifier.readOnlySnapshot(c);
      try {
        int worst = Verifier.AGREE;
        List<Verifier.Summary> summaries = new ArrayList<>();
        for (Verifier v : verifiers) {
          out.println("=== node " + v.node() + " ===");
          worst = Math.max(worst, v.runInTransaction(c));
          summaries.add(v.summary());
          out.println();
        }
        return Math.max(worst, ClusterCheck.run(c, summaries, out));
      } finally {
        c.rollback();
      }
    } catch (Verifier.CannotRead e) {
      err.println("logtail verify: " + e.getMessage());
      return 3;
    } catch (java.sql.SQLException e) {
      err.println("logtail verify: database error: " + e.getMessage()
          + "; is the schema logtail's (run logtail run or recover once to migrate it)?");
      return 3;
    } catch (java.io.IOException e) {
      err.println("logtail verify: " + e.getMessage());
      return 3;
    } catch (OutOfMemoryError e) {
      err.println("logtail verify: out of memory (about 110 MB of heap per million lines is needed); "
          + "give it more, e.g. LOGTAIL_JAVA_OPTS=-Xmx1g ./logtail verify ...");
      return 3;
    }
  }

  /** Without migrations: verify only reads. */
  private static final class DatabaseSetup {
    static Database open(DbOptions d) {
      return io.logtail.worker.DatabaseSetup.open(d.dbUrl, d.dbUser, d.dbPassword, d.dataDir, d.dbPort, false);
    }
  }
}
