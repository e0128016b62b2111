package io.logtail.tail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The order in which the streams of the logs are read: oldest first. It decides which of two votes
 * of one voter came first, so the tailer and {@code logtail verify} use this one class.
 *
 * <h2>Design</h2>
 * Two signals, neither enough alone:
 * <ul>
 *   <li>the modification time, in nanoseconds as the file system keeps it. Across unrelated logs it
 *       is the only signal. Within one rotated log it fails twice: the kernel's file time is coarse (a
 *       few milliseconds), so the last write to {@code access.log.1} and the first to the new
 *       {@code access.log} often carry the same time; and when the system clock is set back, the
 *       newer file looks older;</li>
 *   <li>the rotation number of logrotate's numbered names: in one family, {@code access.log} is
 *       newer than {@code access.log.1}, newer than {@code access.log.2.gz}, whatever the clock said.
 *       Numbers of more than {@value #MAX_ROTATION_DIGITS} digits are dates ({@code dateformat
 *       .%Y%m%d}) and do not count as rotation numbers.</li>
 * </ul>
 * So: sort by (mtime, path); then, within each family (directory + name without {@code .N} and
 * {@code .gz}), put its members into the places the family holds, in rotation order (highest number
 * first, the unnumbered file last; ties by mtime, path). The result is a total, deterministic order
 * that equals logrotate's within a log and the modification time's across logs.
 */
public final class LogOrder {
  static final int MAX_ROTATION_DIGITS = 5;

  private LogOrder() {}

  /** The family and rotation number of a file name: {@code access.log.3.gz} → (access.log, 3). */
  record Rotation(String family, int number) {}

  static Rotation rotation(Path path) {
    String name = path.getFileName() == null ? path.toString() : path.getFileName().toString();
    String dir = path.getParent() == null ? "" : path.getParent().toString();
    String stem = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    int dot = stem.lastIndexOf('.');
    if (dot > 0 && dot < stem.length() - 1 && stem.length() - dot - 1 <= MAX_ROTATION_DIGITS) {
      boolean digits = true;
      for (int i = dot + 1; i < stem.length(); i++) {
        char ch = stem.charAt(i);
        if (ch < '0' || ch > '9') {
          digits = false;
          break;
        }
      }
      if (digits) {
        return new Rotation(dir + '/' + stem.substring(0, dot), Integer.parseInt(stem.substring(dot + 1)));
      }
    }
    return new Rotation(dir + '/' + stem, 0);
  }

  /**
   * Sorts {@code items} oldest first. {@code path} may return null (an item without a file: it
   * forms a family of its own); {@code mtimeNanos} is the modification time in nanoseconds.
   */
  public static <T> void sort(List<T> items, Function<T, Path> path, ToLongFunction<T> mtimeNanos) {
    if (items.size() < 2) return;
    int n = items.size();
    List<Entry<T>> entries = new ArrayList<>(n);
    for (T t : items) {
      Path p = path.apply(t);
      Rotation r = p == null ? null : rotation(p);
      entries.add(new Entry<>(t, p == null ? "" : p.toString(), mtimeNanos.applyAsLong(t), r));
    }
    Comparator<Entry<T>> byTime = Comparator.<Entry<T>>comparingLong(e -> e.mtime).thenComparing(e -> e.path);
    entries.sort(byTime);
    Map<String, List<Integer>> places = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      Rotation r = entries.get(i).rotation;
      if (r != null) places.computeIfAbsent(r.family(), k -> new ArrayList<>()).add(i);
    }
    Comparator<Entry<T>> byRotation = Comparator.<Entry<T>>comparingInt(e -> -e.rotation.number()).thenComparing(byTime);
    List<Entry<T>> out = new ArrayList<>(entries);
    for (List<Integer> at : places.values()) {
      if (at.size() < 2) continue;
      List<Entry<T>> members = new ArrayList<>(at.size());
      for (int i : at) members.add(entries.get(i));
      members.sort(byRotation);
      for (int k = 0; k < at.size(); k++) out.set(at.get(k), members.get(k));
    }
    for (int i = 0; i < n; i++) items.set(i, out.get(i).item);
  }

  private record Entry<T>(T item, String path, long mtime, Rotation rotation) {}
}
