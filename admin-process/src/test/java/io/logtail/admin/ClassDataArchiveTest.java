package io.logtail.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's class-data archive, with real JVMs: a first launch writes it on a clean exit, the next one
 * maps its classes from it (HotSpot's class-load log names the archive as their source), a failed launch
 * leaves none, and a rebuilt jar gets a new key. The JVM runs a main class of a jar built by the test
 * (HotSpot archives jars only).
 */
class ClassDataArchiveTest {
  @TempDir Path tmp;

  /**
   * A jar with one main class, {@code demo.Hello}: exits 0, or with the status given as its argument. Built
   * here (javac of this JDK), so its class file version is this JDK's (HotSpot does not archive classes
   * older than Java 6, as picocli's are).
   */
  private Path helloJar() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src/demo")).resolve("Hello.java");
    Files.writeString(src, "package demo; public class Hello { public static void main(String[] a) {"
        + " System.out.println(\"hello\"); System.exit(a.length == 0 ? 0 : Integer.parseInt(a[0])); } }");
    Path out = Files.createDirectories(tmp.resolve("classes"));
    javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
    assertEquals(0, javac.run(null, null, null, "-d", out.toString(), src.toString()), "javac");
    Path jar = tmp.resolve("hello.jar");
    try (java.util.jar.JarOutputStream j = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
      j.putNextEntry(new java.util.jar.JarEntry("demo/Hello.class"));
      j.write(Files.readAllBytes(out.resolve("demo/Hello.class")));
      j.closeEntry();
    }
    return jar;
  }

  private static Run java(List<String> flags, String classPath, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(flags);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    return new Run(p);
  }

  private record Run(Process process) {
    String output() throws Exception {
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the JVM did not exit");
      return out;
    }
  }

  @Test
  void aCleanExitWritesTheArchiveAndTheNextLaunchMapsIt() throws Exception {
    String cp = helloJar().toString();
    ClassDataArchive a = ClassDataArchive.forClassPath(tmp.resolve("data"), cp);
    List<String> first = a.flags();
    assertTrue(first.stream().anyMatch(f -> f.startsWith("-XX:ArchiveClassesAtExit=")), first.toString());
    Run r = java(first, cp, "demo.Hello");
    a.started(r.process());
    r.output();
    assertEquals(0, r.process().exitValue());

    List<String> second = a.flags();   // waits for the renaming of the first launch's archive
    assertTrue(second.contains("-XX:SharedArchiveFile=" + a.archive()), second.toString());
    assertTrue(Files.size(a.archive()) > 0);
    try (var s = Files.list(a.archive().getParent())) {
      assertEquals(List.of(a.archive()), s.toList(), "only the archive is left in its directory");
    }
    List<String> logged = new ArrayList<>(second);
    logged.add("-Xlog:class+load=info");
    Run r2 = java(logged, cp, "demo.Hello");
    a.started(r2.process());
    String out = r2.output();
    assertTrue(out.lines().anyMatch(l -> l.contains(" demo.Hello source: shared objects file")),
        "demo.Hello should come from the archive:\n" + out.lines().filter(l -> l.contains("demo.Hello")).toList());
  }

  @Test
  void aFailedLaunchLeavesNoArchiveAndTheNextOneTriesAgain() throws Exception {
    String cp = helloJar().toString();
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    ClassDataArchive a = ClassDataArchive.forClassPath(tmp.resolve("data"), cp, now::get);
    // a worker that ran a while, then failed: no archive kept, the next launch tries again
    List<String> flags = a.flags();
    now.addAndGet(ClassDataArchive.FAILING_START_NANOS);
    Run r = java(flags, cp, "demo.Hello", "3");   // HotSpot writes the archive at any exit: it is not kept
    r.output();
    a.started(r.process());
    assertNotEquals(0, r.process().exitValue());
    List<String> again = a.flags();
    assertFalse(Files.exists(a.archive()));
    assertTrue(again.stream().anyMatch(f -> f.startsWith("-XX:ArchiveClassesAtExit=")), again.toString());
    try (var s = Files.list(a.archive().getParent())) {
      assertEquals(0, s.count(), "no temporary file is left");
    }

    // a worker that fails at once (a crash loop): the next launches do not pay the dump again...
    Run fast = java(again, cp, "demo.Hello", "3");
    fast.output();
    a.started(fast.process());
    List<String> off = a.flags();
    assertEquals(List.of(), off, "no dump after a failing start");
    Run quiet = java(off, cp, "demo.Hello", "3");
    quiet.output();
    a.started(quiet.process());
    assertEquals(List.of(), a.flags(), "still none: that launch failed at once too");
    // ...until one runs long enough; the launch after it writes the archive
    Run lived = java(List.of(), cp, "demo.Hello");
    now.addAndGet(ClassDataArchive.FAILING_START_NANOS);
    lived.output();
    a.started(lived.process());
    List<String> back = a.flags();
    assertTrue(back.stream().anyMatch(f -> f.startsWith("-XX:ArchiveClassesAtExit=")), back.toString());
  }

  @Test
  void aRebuiltJarOrAnotherJdkGetsAnotherKeyAndOldArchivesGo() throws IOException {
    Path jar = Files.write(tmp.resolve("a.jar"), new byte[] {1, 2, 3});
    String k1 = ClassDataArchive.key("/jdk", "17.0.15", jar.toString());
    assertEquals(k1, ClassDataArchive.key("/jdk", "17.0.15", jar.toString()));
    assertNotEquals(k1, ClassDataArchive.key("/jdk", "17.0.16", jar.toString()));
    assertNotEquals(k1, ClassDataArchive.key("/other-jdk", "17.0.15", jar.toString()));
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
    assertNotEquals(k1, ClassDataArchive.key("/jdk", "17.0.15", jar.toString()));

    Path data = tmp.resolve("data");
    Path stale = Files.createDirectories(data.resolve("cds")).resolve("worker-0123456789abcdef.jsa");
    Files.write(stale, new byte[] {0});
    ClassDataArchive a = ClassDataArchive.forClassPath(data, jar.toString());
    a.flags();
    assertFalse(Files.exists(stale), "an archive of another key is removed");
  }

  @Test
  void aClassPathWithADirectoryGetsNoArchive() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("classes"));
    Files.write(dir.resolve("A.class"), new byte[] {0});
    ClassDataArchive a = ClassDataArchive.forClassPath(tmp.resolve("data"), dir.toString());
    assertEquals(List.of(), a.flags());
    assertFalse(Files.exists(tmp.resolve("data").resolve("cds")));
  }
}
