package io.logtail.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The logging of every logtail JVM (the admin process, its worker, the commands): one line per message
 * on standard error (the terminal, or the journal under systemd), {@value #PATTERN}; the level of
 * logtail's own messages from {@value #LEVEL_ENV} (default {@value #DEFAULT_LEVEL}); the libraries'
 * chatter (Flyway, HikariCP, Chronicle) at WARN.
 *
 * <p>Why code and not a {@code logback.xml}: logback reads its XML configuration with a SAX parser and
 * its model processor, about 0.4 s of the worker's start on this machine (measured with
 * {@code -Xlog:class+load}: 470 logback classes and the JDK's XML parser loaded before the first line of
 * logtail ran), which the 2-second restart target cannot spare. Logback finds this class through
 * {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}.
 *
 * <p>An explicit configuration still wins: with {@code -Dlogback.configurationFile=FILE} (e.g. in
 * {@code LOGTAIL_JAVA_OPTS}), or a {@code logback-test.xml} on the class path (the tests), this class does
 * nothing and logback reads that file as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfig extends ContextAwareBase implements Configurator {
  /** The environment variable that sets the level of logtail's own messages. */
  public static final String LEVEL_ENV = "LOGTAIL_LOG_LEVEL";
  public static final String DEFAULT_LEVEL = "INFO";
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n";
  /** Libraries whose INFO messages are noise to an operator. */
  static final String[] QUIET = {"org.flywaydb", "com.zaxxer.hikari", "net.openhft"};
  private static final List<String> LEVELS = List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE");

  @Override
  public ExecutionStatus configure(LoggerContext ctx) {
    if (System.getProperty("logback.configurationFile") != null
        || LogConfig.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    configure(ctx, System.getenv());
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Configures {@code ctx} as described above, with the level read from {@code env}. */
  static void configure(LoggerContext ctx, Map<String, String> env) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(ctx);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    for (String q : QUIET) {
      ctx.getLogger(q).setLevel(Level.WARN);
    }
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(level(env.get(LEVEL_ENV)));
    root.addAppender(stderr);
  }

  /**
   * The level named by {@code value}, or {@value #DEFAULT_LEVEL} when it is unset or blank; a value that is
   * not a level is said on standard error (logging is not set up yet) and the default used.
   */
  static Level level(String value) {
    if (value == null || value.isBlank()) {
      return Level.toLevel(DEFAULT_LEVEL);
    }
    String v = value.strip().toUpperCase(Locale.ROOT);
    if (!LEVELS.contains(v)) {
      System.err.println("logtail: " + LEVEL_ENV + "=" + value + " is not a log level (" + String.join(", ", LEVELS)
          + "); using " + DEFAULT_LEVEL);
      return Level.toLevel(DEFAULT_LEVEL);
    }
    return Level.toLevel(v);
  }
}
