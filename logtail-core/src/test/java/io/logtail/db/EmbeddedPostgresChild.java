package io.logtail.db;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link EmbeddedPostgresIT}: starts the server, prints {@code READY <postmaster pid>},
 * then waits on stdin until it is killed -9, as a worker JVM may be.
 */
public final class EmbeddedPostgresChild {
  private EmbeddedPostgresChild() {}

  public static void main(String[] args) throws IOException {
    EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDir(Path.of(args[0])).binariesCacheDir(Path.of(args[1]))
        .port(Integer.parseInt(args[2])).start();
    System.out.println("READY " + pg.postmasterPid());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait to be killed
    }
  }
}
