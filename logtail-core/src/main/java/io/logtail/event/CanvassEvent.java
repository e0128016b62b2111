package io.logtail.event;

/**
 * A decoded canvass beacon: {@code /b/canvass.gif?kind=K&dwelling=D&canvasser=U&lat=..&lon=..&eid=E[...]}.
 * Mutable and reused by the decoder; consumers copy what they keep.
 */
public final class CanvassEvent {
  public enum Kind { visit, intention, followup }
  public enum Stance { yes, no, undecided }

  public String eid;
  public Kind kind;
  public String dwelling;
  public String canvasser;
  /** Latitude and longitude in units of 1e-7 degree, rounded toward negative infinity. */
  public long latE7;
  public long lonE7;
  /** The locality: floor(lat * 1000), floor(lon * 1000), computed exactly from the decimal text. */
  public int cellLat;
  public int cellLon;
  /** For {@link Kind#intention}: the issue identifier; otherwise null. */
  public String issue;
  /** For {@link Kind#intention}; otherwise null. */
  public Stance stance;
  /** For {@link Kind#followup}: free text, valid UTF-8, at most 500 characters; otherwise null. */
  public String request;
  public long timeMicros;

  @Override
  public String toString() {
    return "canvass " + kind + " eid=" + eid + " cell=" + cellLat + "," + cellLon;
  }
}
