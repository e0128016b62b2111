package io.logtail.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DatabaseTest {
  @Test
  void redactStripsPasswordsAndKeepsTheRest() {
    assertEquals("jdbc:postgresql://db:5432/logtail?user=lt",
        Database.redact("jdbc:postgresql://db:5432/logtail?user=lt&password=s3cret"));
    assertEquals("jdbc:postgresql://db/logtail?user=lt&ssl=true",
        Database.redact("jdbc:postgresql://db/logtail?password=s3cret&user=lt&ssl=true"));
    assertEquals("jdbc:postgresql://db/logtail?user=lt&ssl=true",
        Database.redact("jdbc:postgresql://db/logtail?user=lt&PASSWORD=a%26b&ssl=true"));
    assertEquals("jdbc:postgresql://db/logtail",
        Database.redact("jdbc:postgresql://db/logtail?password=x"));
    assertEquals("jdbc:postgresql://db/logtail?sslmode=require",
        Database.redact("jdbc:postgresql://db/logtail?sslpassword=k&sslmode=require"));
    assertEquals("jdbc:postgresql://lt@db:5432/logtail",
        Database.redact("jdbc:postgresql://lt:s3cret@db:5432/logtail"));
    assertEquals("jdbc:postgresql://127.0.0.1:5433/logtail?user=logtail",
        Database.redact("jdbc:postgresql://127.0.0.1:5433/logtail?user=logtail"));
    assertEquals("jdbc:postgresql://h1:5432,h2:5432/logtail?targetServerType=primary",
        Database.redact("jdbc:postgresql://h1:5432,h2:5432/logtail?password=p&targetServerType=primary"));
    assertNull(Database.redact(null));
  }

  @Test
  void redactedUrlOfADatabaseHasNoPassword() {
    try (Database db = Database.builder("jdbc:postgresql://127.0.0.1:1/logtail?user=a&password=topsecret")
        .password("other").build()) {
      assertEquals("jdbc:postgresql://127.0.0.1:1/logtail?user=a", db.redactedUrl());
    }
  }

  @Test
  void builderSaysWhatIsWrong() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Database.builder("postgres://u:pw@h/db").maxPoolSize(0).connectionTimeout(Duration.ZERO).build());
    assertTrue(e.getMessage().contains("jdbc:postgresql:"), e.getMessage());
    assertTrue(e.getMessage().contains("maxPoolSize"), e.getMessage());
    assertTrue(e.getMessage().contains("connectionTimeout"), e.getMessage());
    assertTrue(!e.getMessage().contains("pw@"), "no password in the message: " + e.getMessage());
  }
}
