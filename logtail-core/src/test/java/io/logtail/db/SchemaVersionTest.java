package io.logtail.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@link Database#SCHEMA_VERSION} is the version of the newest migration in sql/. */
class SchemaVersionTest {
  private static final Pattern MIGRATION = Pattern.compile("V(\\d+)__.*\\.sql");

  @Test
  void schemaVersionIsTheNewestMigration() throws IOException {
    Path dir = Path.of(System.getProperty("user.dir")).getParent().resolve("sql/src/main/resources/db/migration");
    List<Integer> versions;
    try (Stream<Path> files = Files.list(dir)) {
      versions = files.map(p -> MIGRATION.matcher(p.getFileName().toString()))
          .filter(Matcher::matches).map(m -> Integer.parseInt(m.group(1))).sorted().toList();
    }
    assertFalse(versions.isEmpty(), "no migrations in " + dir);
    assertEquals(String.valueOf(versions.get(versions.size() - 1)), Database.SCHEMA_VERSION,
        "Database.SCHEMA_VERSION must be the newest migration's version (a worker skips Flyway when the history"
            + " is at it)");
  }
}
