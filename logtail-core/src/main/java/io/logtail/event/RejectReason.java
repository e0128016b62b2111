package io.logtail.event;

/**
 * Why a line did not become an event. The {@link #code()} is what is stored in {@code rejects.reason},
 * shown on status and documented in docs/beacons.md; codes never change meaning once released.
 */
public enum RejectReason {
  // whole line
  MALFORMED_LINE("malformed_line"),
  LINE_TOO_LONG("line_too_long"),
  BAD_REQUEST_LINE("bad_request_line"),
  BAD_ESCAPE("bad_escape"),
  BAD_PERCENT_ENCODING("bad_percent_encoding"),
  BAD_TIME("bad_time"),
  METHOD_NOT_GET("method_not_get"),
  BAD_STATUS("bad_status"),
  UNKNOWN_BEACON("unknown_beacon"),
  TOO_MANY_PARAMS("too_many_params"),
  REPEATED_PARAM("repeated_param"),
  // vote
  MISSING_BALLOT("missing_ballot"),
  BAD_BALLOT("bad_ballot"),
  MISSING_CHOICE("missing_choice"),
  BAD_CHOICE("bad_choice"),
  MISSING_VOTER("missing_voter"),
  BAD_VOTER("bad_voter"),
  BAD_EID("bad_eid"),
  // canvass
  MISSING_EID("missing_eid"),
  MISSING_KIND("missing_kind"),
  BAD_KIND("bad_kind"),
  MISSING_DWELLING("missing_dwelling"),
  BAD_DWELLING("bad_dwelling"),
  MISSING_CANVASSER("missing_canvasser"),
  BAD_CANVASSER("bad_canvasser"),
  MISSING_LAT("missing_lat"),
  BAD_LAT("bad_lat"),
  MISSING_LON("missing_lon"),
  BAD_LON("bad_lon"),
  MISSING_ISSUE("missing_issue"),
  BAD_ISSUE("bad_issue"),
  MISSING_STANCE("missing_stance"),
  BAD_STANCE("bad_stance"),
  MISSING_REQUEST("missing_request"),
  BAD_REQUEST("bad_request"),
  // decided by the database's reference data (voter_roll, ballots), in the flusher
  UNKNOWN_VOTER("unknown_voter"),
  UNKNOWN_BALLOT("unknown_ballot"),
  UNKNOWN_CHOICE("unknown_choice");

  private final String code;

  RejectReason(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }

  public static RejectReason fromCode(String code) {
    for (RejectReason r : values()) {
      if (r.code.equals(code)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown reject reason: " + code);
  }
}
