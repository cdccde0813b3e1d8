-- 0012_feedback_units.sql — one unit's feedback file (SPEC §6 ?enhet=NAME).
--
-- The report a file's feedback is rendered from is gone once the file is
-- processed, so the processing attempt also renders the five formats for
-- each named unit, as <id>.<token>.u<n>.<ext>, and its final transaction
-- records here which number is which unit (replacing an earlier
-- processing's rows). GET .../feedback?enhet=NAME looks the name up, exactly
-- as written, for the committed attempt.
--
-- n NULL: the file named more units than get files of their own
-- (FEEDBACK_UNIT_FILES_MAX); asking for one answers too_many_units (use the
-- whole file). Units R110 refused are never here (they are recorded as
-- unknown, never stored: SPEC §3), nor the file without a unit.
CREATE TABLE kpr.feedback_unit (
  submission_id uuid NOT NULL REFERENCES kpr.submission,
  enhet text NOT NULL CHECK (char_length(enhet) BETWEEN 1 AND 64),
  n integer CHECK (n >= 1),
  PRIMARY KEY (submission_id, enhet),
  UNIQUE (submission_id, n)
);
GRANT SELECT, INSERT, DELETE ON kpr.feedback_unit TO kpr_ingest;
GRANT SELECT ON kpr.feedback_unit TO kpr_register_reader;

-- A municipality's download of one unit's file is counted with its unit;
-- NULL: the whole file.
ALTER TABLE kpr.feedback_download
  ADD COLUMN enhet text CHECK (char_length(enhet) BETWEEN 1 AND 64);
