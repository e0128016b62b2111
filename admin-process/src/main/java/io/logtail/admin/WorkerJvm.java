package io.logtail.admin;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The command line of a worker JVM started by this JVM: {@code java <inherited flags> -Xmx<heap> <class-data
 * archive flags> -cp <this class path> io.logtail.worker.WorkerMain <worker args>}. One builder for every
 * launcher of workers (the admin process of {@code logtail run}, the benches), so that they start the same JVM.
 */
public final class WorkerJvm {
  private WorkerJvm() {}

  /**
   * Which of this JVM's flags the worker inherits under {@code logtail run}: the module access and Chronicle
   * switches it needs; {@code LOGTAIL_JAVA_OPTS} is the admin's own (its heap, say), not the worker's.
   */
  public static final Predicate<String> MODULE_AND_CHRONICLE_FLAGS =
      a -> a.startsWith("--add-opens") || a.startsWith("--add-exports") || a.startsWith("-Dchronicle");

  /**
   * Which flags a bench's worker inherits: all but the heap size, a debugger agent and class-data flags, so
   * that {@code LOGTAIL_JAVA_OPTS} of a bench run (a profiler agent, a logback file, -XX flags) reaches the
   * worker it measures.
   */
  public static final Predicate<String> ALL_BUT_HEAP_AND_DEBUGGER =
      a -> !a.startsWith("-Xmx") && !a.startsWith("-agentlib:jdwp") && !a.startsWith("-XX:SharedArchiveFile")
          && !a.startsWith("-XX:ArchiveClassesAtExit");

  /** The worker's command line; {@code archive}'s flags are asked for here (see {@link ClassDataArchive#flags}). */
  public static List<String> command(Predicate<String> inherit, String heap, ClassDataArchive archive,
      List<String> workerArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (inherit.test(a)) cmd.add(a);
    }
    cmd.add("-Xmx" + heap);
    cmd.addAll(archive.flags());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.logtail.worker.WorkerMain");
    cmd.addAll(workerArgs);
    return cmd;
  }
}
