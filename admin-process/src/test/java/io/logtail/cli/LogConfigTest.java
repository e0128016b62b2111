package io.logtail.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The logging set-up every logtail JVM gets from {@link LogConfig} instead of a logback.xml. */
class LogConfigTest {
  private static String captureStderr(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void oneLinePerMessageOnStderrAtTheLevelOfTheEnvironment() {
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());   // as logback's own initialisation
    LogConfig.configure(ctx, Map.of("LOGTAIL_LOG_LEVEL", "debug"));
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    assertEquals(Level.DEBUG, root.getLevel());
    for (String q : new String[] {"org.flywaydb", "com.zaxxer.hikari", "net.openhft"}) {
      assertEquals(Level.WARN, ctx.getLogger(q).getLevel(), q);
    }
    ConsoleAppender<?> a = (ConsoleAppender<?>) root.getAppender("STDERR");
    assertEquals("System.err", a.getTarget());
    assertEquals("%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n", ((PatternLayoutEncoder) a.getEncoder()).getPattern());

    String out = captureStderr(() -> {
      ctx.getLogger("io.logtail.worker.Worker").debug("node {}: resuming", "n1");
      ctx.getLogger("com.zaxxer.hikari.HikariPool").info("chatter");
      ctx.getLogger("com.zaxxer.hikari.HikariPool").warn("a warning");
    });
    String[] lines = out.split("\n");
    assertEquals(2, lines.length, out);
    assertTrue(lines[0].matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} DEBUG Worker - node n1: resuming"), lines[0]);
    assertTrue(lines[1].matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  HikariPool - a warning"), lines[1]);
    ctx.stop();
  }

  @Test
  void theDefaultIsInfoAndABadLevelIsSaidNotGuessed() {
    assertEquals(Level.INFO, LogConfig.level(null));
    assertEquals(Level.INFO, LogConfig.level(" "));
    assertEquals(Level.TRACE, LogConfig.level(" Trace "));
    String[] got = new String[1];
    String err = captureStderr(() -> got[0] = LogConfig.level("verbose").toString());
    assertEquals("INFO", got[0]);
    assertEquals("logtail: LOGTAIL_LOG_LEVEL=verbose is not a log level (ERROR, WARN, INFO, DEBUG, TRACE); using INFO\n",
        err);
    err = captureStderr(() -> got[0] = LogConfig.level("OFF").toString());
    assertEquals("INFO", got[0], "OFF would hide every error from the operator");
    assertTrue(err.contains("is not a log level"), err);
  }

  @Test
  void logbackFindsItAndLeavesTheTestsTheirOwnFile() {
    boolean found = false;
    for (Configurator c : ServiceLoader.load(Configurator.class, LogConfig.class.getClassLoader())) {
      found |= c instanceof LogConfig;
    }
    assertTrue(found, "META-INF/services/ch.qos.logback.classic.spi.Configurator must name LogConfig");
    // the test class path has a logback-test.xml: LogConfig leaves the configuration to it
    LoggerContext ctx = new LoggerContext();
    LogConfig lc = new LogConfig();
    lc.setContext(ctx);
    assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, lc.configure(ctx));
    assertEquals(null, ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDERR"));
  }
}
