package io.logtail.reference;

import io.logtail.flush.CopyBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Loads a voter roll: a file of SHA-256 hashes, 64 hex digits per line (blank lines and lines starting
 * with {@code #} ignored), into {@code voter_roll} under a scope ({@code *} for the whole election, or
 * a ballot). One transaction: the roll is loaded whole or not at all. A bad line aborts the load with
 * its line number. Hashes already present are kept once.
 *
 * <p>Speed: the file is read as bytes and streamed to the server in binary COPY chunks into a
 * temporary table, then inserted set-wise.
 */
public final class RollLoader {
  private RollLoader() {}

  public static long load(DataSource ds, Path file, String scope) throws IOException, SQLException {
    return load(ds, file, scope, n -> {});
  }

  /** Loads the roll; {@code progress} is told the number of lines read every million lines. */
  public static long load(DataSource ds, Path file, String scope, LongConsumer progress)
      throws IOException, SQLException {
    if (scope == null || !(scope.equals("*") || scope.matches("[A-Za-z0-9._-]{1,64}"))) {
      throw new IllegalArgumentException("roll scope must be '*' or a ballot identifier; was " + scope);
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TEMP TABLE roll_stage (voter bytea) ON COMMIT DROP");
      }
      CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY roll_stage FROM STDIN (FORMAT binary)");
      long lines = 0;
      try (InputStream is = Files.newInputStream(file)) {
        CopyBuffer buf = new CopyBuffer(1 << 20);
        byte[] voter = new byte[32];
        byte[] line = new byte[256];
        int len = 0;
        boolean first = true;
        byte[] chunk = new byte[1 << 16];
        int n;
        while ((n = is.read(chunk)) > 0 || len > 0) {
          if (n <= 0) { // last line without newline
            chunk[0] = '\n';
            n = 1;
          }
          for (int i = 0; i < n; i++) {
            byte b = chunk[i];
            if (b != '\n') {
              if (len == line.length) {
                throw new IllegalArgumentException(file + ":" + (lines + 1) + ": line too long for a voter hash");
              }
              line[len++] = b;
              continue;
            }
            lines++;
            int l = len;
            while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) {
              l--;
            }
            len = 0;
            if (l == 0 || line[0] == '#') {
              continue;
            }
            if (l != 64 || !hex(line, voter)) {
              throw new IllegalArgumentException(file + ":" + lines
                  + ": not a SHA-256 hex digest (64 hex digits); nothing was loaded");
            }
            buf.row(1).bytes(voter, 0, 32);
            if (buf.length() > (1 << 20) - 64) {
              send(in, buf, first);
              first = false;
            }
            if (lines % 1_000_000 == 0) {
              progress.accept(lines);
            }
          }
        }
        buf.finish();
        send(in, buf, first);
        in.endCopy();
      } finally {
        if (in.isActive()) {
          in.cancelCopy();
        }
      }
      long inserted;
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO voter_roll (scope, voter) SELECT DISTINCT ?, voter FROM roll_stage ON CONFLICT DO NOTHING")) {
        ps.setString(1, scope);
        inserted = ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO voter_roll_scopes (scope, voters)
          VALUES (?, (SELECT count(*) FROM voter_roll WHERE scope = ?))
          ON CONFLICT (scope) DO UPDATE SET voters = EXCLUDED.voters, loaded_at = now()""")) {
        ps.setString(1, scope);
        ps.setString(2, scope);
        ps.executeUpdate();
      }
      c.commit();
      return inserted;
    }
  }

  /** Sends the buffer's rows; the first chunk keeps the COPY header, later ones skip it. */
  private static void send(CopyIn in, CopyBuffer buf, boolean first) throws SQLException {
    int headerLen = 19;
    int off = first ? 0 : headerLen;
    in.writeToCopy(buf.array(), off, buf.length() - off);
    buf.reset();
  }

  private static boolean hex(byte[] s, byte[] out) {
    for (int i = 0; i < 32; i++) {
      int hi = Character.digit(s[2 * i], 16);
      int lo = Character.digit(s[2 * i + 1], 16);
      if (hi < 0 || lo < 0) {
        return false;
      }
      out[i] = (byte) (hi << 4 | lo);
    }
    return true;
  }
}
