package io.logtail.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks shared by the commands that load a file given on the command line. */
final class InputFiles {
  private InputFiles() {}

  /** True when {@code file} is a readable regular file; otherwise says so on {@code err}. */
  static boolean readable(Path file, PrintWriter err, String command, String what) {
    if (Files.isRegularFile(file) && Files.isReadable(file)) {
      return true;
    }
    err.println("logtail " + command + ": cannot read " + file + ": give the path of a readable " + what);
    return false;
  }
}
