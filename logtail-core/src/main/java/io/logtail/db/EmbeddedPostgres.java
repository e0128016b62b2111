package io.logtail.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the binaries shipped in a Maven jar, on a data directory of ours.
 *
 * <pre>{@code
 * EmbeddedPostgres pg = EmbeddedPostgres.start(Path.of("logtail-data"), 5433);
 * String url = pg.jdbcUrl();   // jdbc:postgresql://127.0.0.1:5433/logtail?user=logtail
 * }</pre>
 *
 * <p>Layout under the data directory: {@code pgsql-<version>/} the unpacked binaries (unless
 * {@link Builder#binariesCacheDir} puts them elsewhere), {@code pgdata/} the cluster,
 * {@code log/postgresql.log} the server's log, {@code run/} its unix socket (or a private directory
 * under the temp dir when that path would be too long for a socket).
 *
 * <p>The server outlives this object and this JVM: {@link #start} reuses a server already running on
 * the data directory (after this JVM was killed -9 and restarted, say), and only {@link #stop} stops
 * it. Commits are durable: {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} are
 * set on, and checked after every start.
 *
 * <p>PostgreSQL refuses to run as root; as root its programs run in {@code unshare -U}, else through
 * {@code setpriv} as uid 65534 (see {@link RunAs}).
 */
public final class EmbeddedPostgres {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

  /** The superuser initdb creates; trusted on 127.0.0.1 and the private socket, without password. */
  public static final String USER = "logtail";
  /** The database {@link #jdbcUrl()} names, created on start when missing. */
  public static final String DATABASE = "logtail";

  private static final List<String> DURABILITY = List.of("fsync", "synchronous_commit", "full_page_writes");
  private static final String CONF_FILE = "logtail.conf";
  private static final Object JVM_LOCK = new Object();

  /** How the PostgreSQL programs are run, given that PostgreSQL refuses to run as root. */
  public enum RunAs {
    /** Detect once: {@link #DIRECT} unless root, then {@link #UNSHARE} if permitted, else {@link #SETPRIV}. */
    AUTO,
    /** As this process's own user (not root). */
    DIRECT,
    /** Root: inside {@code unshare -U}, where the programs are {@code nobody} but their files stay root's. */
    UNSHARE,
    /** Root: as uid/gid 65534 through {@code setpriv}, with the server's directories chowned to 65534. */
    SETPRIV
  }

  /** Validated settings; build with {@link #builder()}. */
  public static final class Config {
    private final Path dataDir;
    private final int port;
    private final Path binariesCacheDir;
    private final int maxConnections;
    private final String sharedBuffers;
    private final Duration startTimeout;
    private final RunAs runAs;

    private Config(Builder b) {
      this.dataDir = b.dataDir.toAbsolutePath().normalize();
      this.port = b.port;
      this.binariesCacheDir = (b.binariesCacheDir == null ? this.dataDir : b.binariesCacheDir).toAbsolutePath().normalize();
      this.maxConnections = b.maxConnections;
      this.sharedBuffers = b.sharedBuffers;
      this.startTimeout = b.startTimeout;
      this.runAs = b.runAs;
    }

    public Path dataDir() { return dataDir; }
    public int port() { return port; }
    public Path binariesCacheDir() { return binariesCacheDir; }
    public int maxConnections() { return maxConnections; }
    public String sharedBuffers() { return sharedBuffers; }
    public Duration startTimeout() { return startTimeout; }
    public RunAs runAs() { return runAs; }
  }

  /** Builder of {@link Config}; {@link #build()} says what is wrong, naming the option. */
  public static final class Builder {
    private static final Pattern MEMORY = Pattern.compile("\\d+(kB|MB|GB)");
    private Path dataDir;
    private int port = 5433;
    private Path binariesCacheDir;
    private int maxConnections = 100;
    private String sharedBuffers = "128MB";
    private Duration startTimeout = Duration.ofSeconds(120);
    private RunAs runAs = RunAs.AUTO;

    private Builder() {}

    /** Where the cluster, its log and (by default) the unpacked binaries live. Required. */
    public Builder dataDir(Path dataDir) { this.dataDir = dataDir; return this; }
    /** TCP port on 127.0.0.1; default 5433. */
    public Builder port(int port) { this.port = port; return this; }
    /** Where the binaries are unpacked ({@code pgsql-<version>/} inside it); default the data directory. */
    public Builder binariesCacheDir(Path dir) { this.binariesCacheDir = dir; return this; }
    /** {@code max_connections}; default 100. */
    public Builder maxConnections(int n) { this.maxConnections = n; return this; }
    /** {@code shared_buffers}, such as {@code 128MB}; default 128MB. */
    public Builder sharedBuffers(String size) { this.sharedBuffers = size; return this; }
    /** How long {@code pg_ctl start} and the first connection may take; default 120 s. */
    public Builder startTimeout(Duration timeout) { this.startTimeout = timeout; return this; }
    /** How the programs are run; default {@link RunAs#AUTO}. */
    public Builder runAs(RunAs runAs) { this.runAs = runAs; return this; }

    public Config build() {
      List<String> problems = new ArrayList<>();
      if (dataDir == null) {
        problems.add("dataDir is required (the directory for the database, e.g. --data-dir)");
      }
      if (port < 1 || port > 65535) {
        problems.add("port must be 1..65535, was " + port + " (pick another with --db-port)");
      }
      if (maxConnections < 5 || maxConnections > 10_000) {
        problems.add("maxConnections must be 5..10000, was " + maxConnections);
      }
      if (sharedBuffers == null || !MEMORY.matcher(sharedBuffers).matches()) {
        problems.add("sharedBuffers must be a size such as 128MB (digits then kB, MB or GB), was " + sharedBuffers);
      }
      if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
        problems.add("startTimeout must be positive, was " + startTimeout);
      }
      if (runAs == null) {
        problems.add("runAs must not be null (use AUTO)");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("Invalid embedded PostgreSQL settings: " + String.join("; ", problems));
      }
      return new Config(this);
    }

    /** {@code build()} then {@link EmbeddedPostgres#start(Config)}. */
    public EmbeddedPostgres start() {
      return EmbeddedPostgres.start(build());
    }
  }

  private final Config config;
  private final PgCommands commands;
  private final Path binDir;
  private final Path pgData;
  private final Path logFile;
  private final Path socketDir;
  private volatile int port;
  private volatile long postmasterPid;
  private volatile boolean reused;

  private EmbeddedPostgres(Config config, PgCommands commands, Path binDir) {
    this.config = config;
    this.commands = commands;
    this.binDir = binDir;
    this.pgData = config.dataDir().resolve("pgdata");
    this.logFile = config.dataDir().resolve("log").resolve("postgresql.log");
    this.socketDir = socketDir(config.dataDir());
    this.port = config.port();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts (or reuses) the server on {@code dataDir}, listening on 127.0.0.1:{@code port}. */
  public static EmbeddedPostgres start(Path dataDir, int port) {
    return builder().dataDir(dataDir).port(port).start();
  }

  /**
   * Unpacks the binaries if needed, runs initdb if the cluster does not exist, writes the settings,
   * and starts the server, or reuses it when it is already running on this data directory. Then
   * checks that commits are durable and creates the {@code logtail} database if missing.
   *
   * @throws IllegalStateException saying what to do, e.g. when the port is taken by something else
   */
  public static EmbeddedPostgres start(Config config) {
    Objects.requireNonNull(config, "config");
    long t0 = System.nanoTime();
    synchronized (JVM_LOCK) {
      try {
        Files.createDirectories(config.dataDir());
        try (FileChannel ch = FileChannel.open(config.dataDir().resolve(".logtail-pg.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
          Path home = PgBinaries.ensure(config.binariesCacheDir());
          EmbeddedPostgres pg = new EmbeddedPostgres(config, new PgCommands(config.runAs()), home.resolve("bin"));
          pg.startLocked();
          log.info("PostgreSQL {} on 127.0.0.1:{} (pid {}, {}), ready in {} ms. Data: {}; server log: {}."
              + " Connect with: psql -h 127.0.0.1 -p {} -U {} {}",
              pg.reused ? "already running" : "started", pg.port, pg.postmasterPid, pg.runAs(),
              (System.nanoTime() - t0) / 1_000_000, pg.pgData, pg.logFile, pg.port, USER, DATABASE);
          return pg;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("could not prepare the embedded PostgreSQL in " + config.dataDir()
            + ": " + e.getMessage(), e);
      }
    }
  }

  private void startLocked() throws IOException {
    if (!Files.exists(pgData.resolve("PG_VERSION"))) {
      initdb();
    }
    Files.createDirectories(logFile.getParent());
    Files.createDirectories(socketDir);
    Files.setPosixFilePermissions(socketDir, PgBinaries.perms(0700));
    fixOwnership();
    writeSettings();

    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    if (isRunning()) {
      reused = true;
      readPidFile();
      if (port != config.port()) {
        log.warn("PostgreSQL is already running on {} at port {}, not the requested {}; using port {}."
            + " Stop it (pg_ctl stop) to move it to port {}.", pgData, port, config.port(), port, config.port());
      }
    } else {
      startServer(deadline);
    }
    Connection c;
    try {
      c = connectOrExplain(deadline, reused);
    } catch (ServerGone gone) {
      // postmaster.pid named a postmaster that was dying (killed -9, say): start a new one, which recovers
      log.warn("PostgreSQL on {} (pid {}) stopped while being reused; starting it again", pgData, postmasterPid);
      reused = false;
      startServer(deadline);
      c = connectOrExplain(deadline, false);
    }
    try (Connection conn = c) {
      ensureDurable(conn, deadline);
      createDatabaseIfMissing(conn);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL on port " + port + " is running but could not be set up: "
          + e.getMessage() + "\nLast lines of " + logFile + ":\n" + logTail(), e);
    }
  }

  private Connection connectOrExplain(long deadline, boolean watchRunning) {
    try {
      return connectWhenReady("postgres", deadline, watchRunning);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL on port " + port + " started but takes no connections: "
          + e.getMessage() + "\nLast lines of " + logFile + ":\n" + logTail(), e);
    }
  }

  /**
   * {@code pg_ctl start}. Retried while the processes of a postmaster that was just killed still hold its
   * shared memory or lock file (they exit within moments of noticing their postmaster is gone).
   */
  private void startServer(long deadline) throws IOException {
    checkPortFree();
    while (true) {
      int logLines = logLineCount();
      long secs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000_000L);
      PgCommands.Result r = commands.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", pgData.toString(),
          "-l", logFile.toString(), "-w", "-t", Long.toString(secs), "start"), Duration.ofSeconds(secs + 30));
      if (r.exitCode() == 0) {
        readPidFile();
        return;
      }
      String news = logSince(logLines);
      if (news.contains("Address already in use")) {
        throw portInUse();
      }
      boolean leftovers = news.contains("pre-existing shared memory block") || news.contains("already exists");
      if (!leftovers || System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("PostgreSQL did not start (pg_ctl exit " + r.exitCode() + "): "
            + r.output().trim() + "\nLast lines of " + logFile + ":\n" + logTail());
      }
      log.info("PostgreSQL on {}: processes of the previous server are still exiting; trying again", pgData);
      LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
    }
  }

  /** Thrown while waiting for a reused server that turns out not to be running. */
  private static final class ServerGone extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ServerGone() {
      super("the server stopped", null, false, false);
    }
  }

  private void initdb() throws IOException {
    if (Files.isDirectory(pgData)) {
      try (Stream<Path> s = Files.list(pgData)) {
        if (s.findAny().isPresent()) {
          throw new IllegalStateException(pgData + " exists but is not a PostgreSQL data directory (no PG_VERSION);"
              + " move it away or choose another data directory");
        }
      }
      Files.delete(pgData);
    }
    // initdb into a temporary directory renamed into place when complete: a killed initdb leaves no half cluster
    try (Stream<Path> s = Files.list(config.dataDir())) {
      s.filter(p -> p.getFileName().toString().startsWith("pgdata.initdb-")).forEach(PgBinaries::deleteTree);
    }
    Path tmp = Files.createTempDirectory(config.dataDir(), "pgdata.initdb-");
    try {
      Files.setPosixFilePermissions(tmp, PgBinaries.perms(0700));
      if (commands.runAs() == RunAs.SETPRIV) {
        checkReachableByNobody();
        chown(tmp);
      }
      long t0 = System.nanoTime();
      PgCommands.Result r = commands.run(List.of(binDir.resolve("initdb").toString(), "-D", tmp.toString(),
          "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C", "--no-instructions"), Duration.ofMinutes(5));
      if (r.exitCode() != 0) {
        throw new IllegalStateException("initdb failed (exit " + r.exitCode() + ") in " + tmp + ":\n" + r.output());
      }
      Files.move(tmp, pgData, StandardCopyOption.ATOMIC_MOVE);
      log.info("Created a new PostgreSQL cluster in {} in {} ms", pgData, (System.nanoTime() - t0) / 1_000_000);
    } finally {
      PgBinaries.deleteTree(tmp);
    }
  }

  /** Under SETPRIV the server's directories belong to 65534; otherwise to us (a cluster made under SETPRIV is taken back). */
  private void fixOwnership() throws IOException {
    int want = commands.runAs() == RunAs.SETPRIV ? PgCommands.NOBODY : (commands.runAs() == RunAs.UNSHARE ? 0 : -1);
    if (want < 0) {
      return;
    }
    List<Path> paths = new ArrayList<>(List.of(pgData, logFile.getParent(), socketDir));
    if (Files.exists(logFile)) {
      paths.add(logFile);
    }
    for (Path p : paths) {
      if (!Integer.valueOf(want).equals(Files.getAttribute(p, "unix:uid"))) {
        log.info("Changing the owner of {} to uid {} for PostgreSQL ({})", p, want, commands.runAs());
        chownAs(p, want);
      }
    }
  }

  private void chown(Path p) {
    chownAs(p, PgCommands.NOBODY);
  }

  private static void chownAs(Path p, int uid) {
    PgCommands.Result r = PgCommands.exec(List.of("chown", "-R", uid + ":" + uid, p.toString()), Map.of(),
        Duration.ofMinutes(5));
    if (r.exitCode() != 0) {
      throw new IllegalStateException("could not chown " + p + " to " + uid + ": " + r.output());
    }
  }

  private void checkReachableByNobody() throws IOException {
    // the data directory is ours: let uid 65534 through it (pgdata itself stays 0700, owned by 65534)
    for (Path own : List.of(config.dataDir(), config.binariesCacheDir())) {
      var perms = Files.getPosixFilePermissions(own);
      if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
        Files.setPosixFilePermissions(own, perms);
        log.info("Made {} traversable (o+x) for uid {}", own, PgCommands.NOBODY);
      }
    }
    PgCommands.Result r = commands.run(List.of("test", "-x", binDir.resolve("postgres").toString(), "-a",
        "-x", config.dataDir().toString()), Duration.ofSeconds(10));
    if (r.exitCode() != 0) {
      throw new IllegalStateException("PostgreSQL runs as uid " + PgCommands.NOBODY + " here (setpriv), and that user"
          + " cannot reach " + config.dataDir() + " or " + binDir + ": give its parent directories o+x"
          + " (chmod o+x), or choose a --data-dir elsewhere, e.g. under /var/lib");
    }
  }

  /** Writes {@code logtail.conf} (rewritten at every start) and includes it at the end of postgresql.conf. */
  private void writeSettings() throws IOException {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("listen_addresses", "'127.0.0.1'");
    s.put("port", Integer.toString(config.port()));
    s.put("unix_socket_directories", quote(socketDir.toString()));
    s.put("unix_socket_permissions", "0700");
    s.put("max_connections", Integer.toString(config.maxConnections()));
    s.put("shared_buffers", config.sharedBuffers());
    // commits must survive a crash of the machine: some embedded launchers turn these off for speed
    s.put("fsync", "on");
    s.put("synchronous_commit", "on");
    s.put("full_page_writes", "on");
    s.put("logging_collector", "off");
    s.put("log_timezone", "'UTC'");
    s.put("timezone", "'UTC'");
    StringBuilder sb = new StringBuilder("# Written by logtail at every start of its embedded PostgreSQL;"
        + " edits here are overwritten.\n# Included at the end of postgresql.conf."
        + " ALTER SYSTEM (postgresql.auto.conf) still overrides these.\n");
    s.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
    Path conf = pgData.resolve(CONF_FILE);
    Path tmp = pgData.resolve(CONF_FILE + ".tmp");
    Files.writeString(tmp, sb, StandardCharsets.UTF_8);
    Files.move(tmp, conf, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Path main = pgData.resolve("postgresql.conf");
    String include = "include_if_exists = '" + CONF_FILE + "'";
    if (!Files.readString(main, StandardCharsets.UTF_8).contains(include)) {
      Files.writeString(main, "\n# logtail's settings, last so that they win\n" + include + "\n",
          StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
    if (commands.runAs() == RunAs.SETPRIV) {
      chown(conf);
    }
  }

  private static String quote(String v) {
    return "'" + v.replace("'", "''") + "'";
  }

  private void checkPortFree() {
    try (ServerSocket ss = new ServerSocket()) {
      ss.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), config.port()));
    } catch (IOException e) {
      throw portInUse();
    }
  }

  private IllegalStateException portInUse() {
    return new IllegalStateException("Port " + config.port() + " on 127.0.0.1 is already in use by another program,"
        + " so the embedded PostgreSQL for " + config.dataDir() + " cannot listen there: pick a free port with"
        + " --db-port (or stop what uses port " + config.port() + ")");
  }

  private void readPidFile() throws IOException {
    List<String> lines = Files.readAllLines(pgData.resolve("postmaster.pid"), StandardCharsets.UTF_8);
    postmasterPid = Long.parseLong(lines.get(0).trim());
    if (lines.size() > 3 && !lines.get(3).isBlank()) {
      port = Integer.parseInt(lines.get(3).trim());
    }
  }

  private Connection connectWhenReady(String database, long deadline, boolean watchRunning) throws SQLException {
    SQLException last = null;
    for (int attempt = 1; ; attempt++) {
      try {
        return connect(database);
      } catch (SQLException e) {
        last = e;
      }
      if (System.nanoTime() - deadline > 0) {
        throw last;
      }
      if (watchRunning && attempt % 5 == 0 && !isRunning()) {
        throw new ServerGone();
      }
      LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
    }
  }

  /** A new connection to {@code database} on this server as {@link #USER}; the caller closes it. */
  public Connection connect(String database) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", USER);
    p.setProperty("connectTimeout", "10");
    p.setProperty("loginTimeout", "10");
    p.setProperty("ApplicationName", "logtail-embedded-admin");
    Connection c = new org.postgresql.Driver().connect(jdbcUrlFor(database, port), p);
    if (c == null) {
      throw new SQLException("the PostgreSQL driver did not accept " + jdbcUrlFor(database, port));
    }
    return c;
  }

  private void ensureDurable(Connection c, long deadline) throws SQLException {
    Map<String, String[]> bad = durabilityProblems(c);
    if (!bad.isEmpty() && reused && reloadWouldFix(c, bad)) {
      // a server started before logtail.conf was (re)written: reload it and look again
      try (Statement st = c.createStatement()) {
        st.execute("SELECT pg_reload_conf()");
      }
      long reloadDeadline = Math.min(deadline, System.nanoTime() + Duration.ofSeconds(10).toNanos());
      while (!(bad = durabilityProblems(c)).isEmpty() && System.nanoTime() - reloadDeadline < 0) {
        LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
      }
    }
    if (!bad.isEmpty()) {
      StringBuilder sb = new StringBuilder("PostgreSQL on port " + port + " would not make commits durable:");
      bad.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v[0]).append(" (set by ").append(v[1]).append(')'));
      sb.append(". logtail needs fsync, synchronous_commit and full_page_writes on: remove those overrides"
          + " (for ALTER SYSTEM: ALTER SYSTEM RESET <name>; SELECT pg_reload_conf()) and start logtail again.");
      throw new IllegalStateException(sb.toString());
    }
  }

  /**
   * Whether the configuration files as they are now (pg_file_settings) turn every durability setting
   * on, and the live wrong values came from a file: then a reload fixes them. A value set by
   * ALTER SYSTEM, or on the server's command line, does not change on reload.
   */
  private static boolean reloadWouldFix(Connection c, Map<String, String[]> bad) throws SQLException {
    for (String[] v : bad.values()) {
      if (!v[1].startsWith("configuration file") && !v[1].startsWith("default")) {
        return false;
      }
    }
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT name, setting FROM pg_file_settings WHERE applied"
             + " AND name IN ('fsync', 'synchronous_commit', 'full_page_writes')")) {
      while (rs.next()) {
        if (!"on".equals(rs.getString(2))) {
          return false;
        }
      }
    }
    return true;
  }

  private static Map<String, String[]> durabilityProblems(Connection c) throws SQLException {
    Map<String, String[]> bad = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT name, setting, source, coalesce(sourcefile, '') FROM pg_settings"
             + " WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")) {
      int seen = 0;
      while (rs.next()) {
        seen++;
        if (!"on".equals(rs.getString(2))) {
          String src = rs.getString(3) + (rs.getString(4).isEmpty() ? "" : " " + rs.getString(4));
          bad.put(rs.getString(1), new String[] {rs.getString(2), src});
        }
      }
      if (seen != DURABILITY.size()) {
        throw new SQLException("expected " + DURABILITY + " in pg_settings, found " + seen);
      }
    }
    return bad;
  }

  private void createDatabaseIfMissing(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
      if (rs.next()) {
        return;
      }
    }
    try (Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + DATABASE);
      log.info("Created database {}", DATABASE);
    } catch (SQLException e) {
      // another process created it at the same moment
      if (!"42P04".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
        throw e;
      }
    }
  }

  /** Whether a server is running on this data directory ({@code pg_ctl status}). */
  public boolean isRunning() {
    if (!Files.exists(pgData.resolve("postmaster.pid"))) {
      return false;
    }
    PgCommands.Result r = commands.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", pgData.toString(), "status"),
        Duration.ofSeconds(30));
    return r.exitCode() == 0;
  }

  /** Stops the server ({@code pg_ctl stop -m fast}), waiting until it has; does nothing when it is not running. */
  public void stop() {
    synchronized (JVM_LOCK) {
      if (!isRunning()) {
        log.info("PostgreSQL on {} is not running; nothing to stop", pgData);
        return;
      }
      try {
        readPidFile();
      } catch (IOException | RuntimeException e) {
        // only for the log line below
      }
      PgCommands.Result r = commands.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", pgData.toString(),
          "-m", "fast", "-w", "-t", Long.toString(config.startTimeout().toSeconds()), "stop"),
          config.startTimeout().plusSeconds(30));
      if (r.exitCode() != 0 && isRunning()) {
        throw new IllegalStateException("could not stop PostgreSQL on " + pgData + " (pg_ctl exit " + r.exitCode()
            + "): " + r.output().trim());
      }
      log.info("Stopped PostgreSQL on {} (was pid {}, port {})", pgData, postmasterPid, port);
    }
  }

  private int logLineCount() {
    try {
      return Files.exists(logFile) ? Files.readAllLines(logFile, StandardCharsets.UTF_8).size() : 0;
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  private String logSince(int line) {
    try {
      if (!Files.exists(logFile)) {
        return "";
      }
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.min(line, lines.size()), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  private String logTail() {
    try {
      if (!Files.exists(logFile)) {
        return "(no log yet)";
      }
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(could not read " + logFile + ": " + e.getMessage() + ")";
    }
  }

  /** {@code <dataDir>/run}, unless a socket path there would exceed the 107 bytes Linux allows. */
  static Path socketDir(Path dataDir) {
    Path run = dataDir.resolve("run");
    if (run.resolve(".s.PGSQL.65535.lock").toString().getBytes(StandardCharsets.UTF_8).length <= 100) {
      return run;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(dataDir.toString().getBytes(StandardCharsets.UTF_8));
      return Path.of(System.getProperty("java.io.tmpdir"), "logtail-pg-" + HexFormat.of().formatHex(h, 0, 6));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String jdbcUrlFor(String database, int port) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** {@code jdbc:postgresql://127.0.0.1:PORT/logtail?user=logtail}. */
  public String jdbcUrl() {
    return jdbcUrl(DATABASE);
  }

  /** The JDBC URL of another database on this server, as {@link #USER}. */
  public String jdbcUrl(String database) {
    return jdbcUrlFor(database, port) + "?user=" + USER;
  }

  /** The port it listens on (that of the running server when one was reused). */
  public int port() { return port; }
  public Config config() { return config; }
  public Path dataDir() { return config.dataDir(); }
  /** The cluster's directory ({@code PGDATA}). */
  public Path pgData() { return pgData; }
  public Path logFile() { return logFile; }
  public Path socketDir() { return socketDir; }
  /** The directory holding {@code postgres}, {@code pg_ctl}, {@code initdb}. */
  public Path binDir() { return binDir; }
  /** The postmaster's process id, from {@code postmaster.pid} at start. */
  public long postmasterPid() { return postmasterPid; }
  /** Whether {@link #start} found the server already running and reused it. */
  public boolean reused() { return reused; }
  /** How the programs are run here (never {@link RunAs#AUTO}). */
  public RunAs runAs() { return commands.runAs(); }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + pgData + " on 127.0.0.1:" + port + ", pid " + postmasterPid + ", " + runAs() + "]";
  }
}
