package io.logtail.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A headless Chromium (Debian's {@code chromium}) driven through the DevTools protocol over the JDK's
 * WebSocket client, for the results page's end-to-end test: one browser for the whole test (a launch
 * costs seconds on this machine), one tab; navigate, evaluate JavaScript in the page, press keys,
 * emulate a phone's viewport, save screenshots.
 *
 * <p>Started with the flags of the brief ({@code --headless --no-sandbox --disable-gpu --disable-quic
 * --no-first-run --disable-background-networking --disable-component-update --disable-sync}, a new
 * empty {@code --user-data-dir}), {@code --remote-debugging-port=0} (Chromium picks a free port and
 * writes it to {@code DevToolsActivePort} in the profile) and {@code --lang=en-US} with {@code TZ=UTC},
 * so that the numbers and times the page formats are predictable. Waiting is by polling an expression
 * with a deadline ({@link #await}), never by sleeping.
 */
final class Chromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final WebSocket ws;
  private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final String session;
  private final Path profile;

  /** {@code /usr/bin/chromium} (Debian's package) or {@code chromium} on the PATH. */
  static Optional<Path> findBinary() {
    return NginxServer.which("chromium", "/usr/bin/chromium");
  }

  /** Starts Chromium with a new empty profile under {@code profile} and opens one blank tab. */
  static Chromium start(Path binary, Path profile) throws Exception {
    Files.createDirectories(profile);
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0", "--lang=en-US",
        "--hide-scrollbars", "--window-size=1200,900", "about:blank"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile());
    pb.environment().put("TZ", "UTC");
    pb.environment().put("LANG", "en_US.UTF-8");
    Process p = pb.start();
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> lines = List.of();
    while (lines.size() < 2) {
      if (!p.isAlive()) {
        throw new IOException("chromium exited with status " + p.exitValue() + " at start; see "
            + profile.resolveSibling(profile.getFileName() + ".log"));
      }
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IOException("chromium wrote no DevToolsActivePort within 30 s");
      }
      if (Files.exists(portFile)) {
        lines = Files.readAllLines(portFile);
      }
      LockSupport.parkNanos(50_000_000L);
    }
    String url = "ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip();
    Chromium c = null;
    try {
      c = new Chromium(p, url, profile);
      return c;
    } catch (Exception e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private Chromium(Process process, String url, Path profile) throws Exception {
    this.process = process;
    this.profile = profile;
    this.ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
        .buildAsync(URI.create(url), new Listener()).get(10, TimeUnit.SECONDS);
    String target = call(null, "Target.createTarget", Map.of("url", "about:blank")).path("targetId").asText();
    this.session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true))
        .path("sessionId").asText();
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder buf = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
      buf.append(data);
      if (last) {
        String msg = buf.toString();
        buf.setLength(0);
        try {
          JsonNode n = JSON.readTree(msg);
          if (n.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(n.get("id").asLong());
            if (f != null) {
              if (n.has("error")) {
                f.completeExceptionally(new IOException("DevTools error: " + n.get("error")));
              } else {
                f.complete(n.path("result"));
              }
            }
          }
        } catch (IOException e) {
          pending.values().forEach(f -> f.completeExceptionally(e));
        }
      }
      w.request(1);
      return null;
    }

    @Override
    public void onError(WebSocket w, Throwable error) {
      pending.values().forEach(f -> f.completeExceptionally(error));
    }
  }

  /** Sends a DevTools command (to the tab unless {@code sessionId} is null) and waits up to 30 s for its result. */
  JsonNode call(String sessionId, String method, Map<String, ?> params) throws Exception {
    long id = ids.incrementAndGet();
    ObjectNode msg = JSON.createObjectNode();
    msg.put("id", id);
    msg.put("method", method);
    msg.set("params", JSON.valueToTree(params));
    if (sessionId != null) {
      msg.put("sessionId", sessionId);
    }
    CompletableFuture<JsonNode> f = new CompletableFuture<>();
    pending.put(id, f);
    ws.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
    try {
      return f.get(30, TimeUnit.SECONDS);
    } finally {
      pending.remove(id);
    }
  }

  JsonNode call(String method, Map<String, ?> params) throws Exception {
    return call(session, method, params);
  }

  /** Loads {@code url} afresh (through about:blank, so that a URL differing only by its #hash is a new load too). */
  void navigate(String url) throws Exception {
    call("Page.navigate", Map.of("url", "about:blank"));
    call("Page.navigate", Map.of("url", url));
  }

  /** Evaluates {@code js} in the page (promises awaited) and returns its value as JSON. */
  JsonNode eval(String js) throws Exception {
    JsonNode r = call("Runtime.evaluate", Map.of("expression", js, "returnByValue", true, "awaitPromise", true));
    if (r.has("exceptionDetails")) {
      throw new IOException("page script failed: " + r.get("exceptionDetails"));
    }
    return r.path("result").path("value");
  }

  /** Polls the boolean {@code js} every 100 ms until true or {@code timeout}; fails with {@code describeJs}'s value. */
  void await(Duration timeout, String what, String js, String describeJs) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (eval(js).asBoolean(false)) {
          return;
        }
      } catch (IOException e) {
        last = e; // the page is navigating, or not there yet
      }
      LockSupport.parkNanos(100_000_000L);
    }
    String d;
    try {
      d = eval(describeJs).toString();
    } catch (Exception e) {
      d = e.toString();
    }
    throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
        + (last == null ? "" : " (last error " + last.getMessage() + ")") + "; page: " + d);
  }

  /** The viewport of a desktop ({@code mobile=false}) or a phone, in CSS pixels. */
  void viewport(int width, int height, boolean mobile) throws Exception {
    call("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
        "deviceScaleFactor", 1, "mobile", mobile));
  }

  /** Presses and releases a key in the page: "Tab", "Enter". */
  void press(String key) throws Exception {
    int code = switch (key) {
      case "Tab" -> 9;
      case "Enter" -> 13;
      default -> throw new IllegalArgumentException(key);
    };
    Map<String, Object> down = new java.util.HashMap<>(Map.of("type", "keyDown", "key", key, "code", key,
        "windowsVirtualKeyCode", code));
    if (code == 13) {
      down.put("text", "\r");
    }
    call("Input.dispatchKeyEvent", down);
    call("Input.dispatchKeyEvent", Map.of("type", "keyUp", "key", key, "code", key, "windowsVirtualKeyCode", code));
  }

  /** Saves a PNG of the whole page (not only the viewport) to {@code file}. */
  void screenshot(Path file) throws Exception {
    JsonNode m = call("Page.getLayoutMetrics", Map.of());
    JsonNode size = m.path("cssContentSize");
    double w = Math.max(1, size.path("width").asDouble());
    double h = Math.max(1, Math.min(size.path("height").asDouble(), 6000));
    JsonNode r = call("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true,
        "clip", Map.of("x", 0, "y", 0, "width", w, "height", h, "scale", 1)));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, Base64.getDecoder().decode(r.path("data").asText()));
  }

  @Override
  public void close() {
    try {
      // no answer awaited: the browser may be gone before it answers
      ws.sendText("{\"id\":" + ids.incrementAndGet() + ",\"method\":\"Browser.close\"}", true).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // going down anyway
    }
    try {
      ws.abort();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  Path profile() {
    return profile;
  }
}
