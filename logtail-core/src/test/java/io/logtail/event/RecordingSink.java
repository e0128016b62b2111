package io.logtail.event;

import io.logtail.tail.Source;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test sink: records every call as a small text, and counts calls. */
public final class RecordingSink implements EventSink {
  public final List<String> calls = new ArrayList<>();
  public final List<Object> events = new ArrayList<>();
  public final List<RejectReason> reasons = new ArrayList<>();
  public long lastStart = -1;
  public long lastEnd = -1;

  @Override
  public void vote(Source source, long start, long end, VoteEvent v) {
    record(start, end);
    calls.add("vote");
    VoteEvent c = new VoteEvent();
    c.ballot = v.ballot;
    c.choice = v.choice;
    System.arraycopy(v.voter, 0, c.voter, 0, 32);
    c.eid = v.eid;
    c.timeMicros = v.timeMicros;
    events.add(c);
  }

  @Override
  public void canvass(Source source, long start, long end, CanvassEvent r) {
    record(start, end);
    calls.add("canvass");
    CanvassEvent c = new CanvassEvent();
    c.eid = r.eid;
    c.kind = r.kind;
    c.dwelling = r.dwelling;
    c.canvasser = r.canvasser;
    c.latE7 = r.latE7;
    c.lonE7 = r.lonE7;
    c.cellLat = r.cellLat;
    c.cellLon = r.cellLon;
    c.issue = r.issue;
    c.stance = r.stance;
    c.request = r.request;
    c.timeMicros = r.timeMicros;
    events.add(c);
  }

  @Override
  public void reject(Source source, long start, long end, RejectReason reason, byte[] raw, int off, int len) {
    record(start, end);
    calls.add(reason.code());
    reasons.add(reason);
    events.add(new String(raw, off, len, StandardCharsets.ISO_8859_1));
  }

  @Override
  public void skipped(Source source, long start, long end) {
    record(start, end);
    calls.add("skipped");
    events.add(null);
  }

  private void record(long start, long end) {
    lastStart = start;
    lastEnd = end;
  }

  public String last() {
    return calls.get(calls.size() - 1);
  }

  public Object lastEvent() {
    return events.get(events.size() - 1);
  }
}
