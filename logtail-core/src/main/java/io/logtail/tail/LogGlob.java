package io.logtail.tail;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code --log} argument: a literal directory and a file name that may be a glob (the syntax of
 * {@link java.nio.file.FileSystem#getPathMatcher} "glob:"). Lists the entries of the directory the
 * name matches, each pass, so files created later are picked up.
 */
public final class LogGlob {
  private final String text;
  private final Path dir;
  private final String namePattern;
  private final PathMatcher matcher; // null when the name is literal

  private LogGlob(String text, Path dir, String namePattern, PathMatcher matcher) {
    this.text = text;
    this.dir = dir;
    this.namePattern = namePattern;
    this.matcher = matcher;
  }

  public static LogGlob parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("--log needs a path or glob, got an empty value");
    }
    Path p;
    try {
      p = TailerConfig.absolute(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--log " + text + " is not a valid path: " + e.getMessage());
    }
    Path name = p.getFileName();
    Path dir = p.getParent();
    if (name == null || dir == null) {
      throw new IllegalArgumentException("--log " + text + " must name a file, not a root directory");
    }
    if (hasGlobChars(dir.toString())) {
      throw new IllegalArgumentException("--log " + text
          + ": a glob is only allowed in the file-name part (e.g. /var/log/nginx/access.log*), "
          + "not in the directory " + dir);
    }
    String pattern = name.toString();
    PathMatcher matcher = null;
    if (hasGlobChars(pattern)) {
      try {
        matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--log " + text + ": invalid glob " + pattern + ": "
            + e.getMessage());
      }
    }
    return new LogGlob(text, dir, pattern, matcher);
  }

  private static boolean hasGlobChars(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '*' || c == '?' || c == '[' || c == '{') return true;
    }
    return false;
  }

  /** The paths that exist now and match, sorted by name; throws when the directory can't be listed. */
  public List<Path> list() throws IOException {
    List<Path> out = new ArrayList<>();
    if (matcher == null) {
      Path p = dir.resolve(namePattern);
      if (Files.exists(p)) out.add(p);
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        Path n = p.getFileName();
        if (n != null && matcher.matches(n)) out.add(p);
      }
    }
    out.sort(null);
    return out;
  }

  Path dir() { return dir; }

  @Override
  public String toString() { return text; }
}
