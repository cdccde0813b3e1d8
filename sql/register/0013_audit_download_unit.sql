-- 0013_audit_download_unit.sql — a staff download of one unit's feedback
-- file (SPEC §6, ?enhet=NAME) is audited with its unit.
--
-- 1. kpr.audit.enhet: the unit as written; NULL for the whole file and for
--    every other action. Not in `detail`: its CHECK refuses 11 digits in a
--    row, which a unit name R110 accepted may hold (digits failing R103 or
--    R104 are no national-ID candidate), so such a unit's file could never
--    be downloaded by staff — the trap 0005 took the submission id out of.
--    No candidate reaches the column all the same: the function below takes
--    only a name kpr.feedback_unit holds for that submission, and it holds
--    only names R110 let through (SPEC §3; kprctl verify scans the column
--    with the submission's other text columns).
-- 2. The hash chain covers the column. kpr.audit_fields() still appends
--    the optional trailing fields only up to the last one set: the
--    submission id when only it is set (0005), the submission id (or NULL)
--    and the unit when the unit is set. Every row written before this
--    migration keeps the payload, and the hash, it was chained with;
--    `kprctl audit verify` recomputes the same in C (cmd_audit.c).
-- 3. kpr.audit_staff_download(uuid, text, bigint, text). The three-argument
--    function stays as it is (as 0005 kept kpr.audit_admin's), so a kprd of
--    the previous release still serves and audits staff downloads during a
--    rolling upgrade — without their unit, as it did before.

ALTER TABLE kpr.audit ADD COLUMN enhet text CHECK (char_length(enhet) BETWEEN 1 AND 64),
  ADD CONSTRAINT audit_enhet_staff_download CHECK (enhet IS NULL OR action = 'staff_download');

CREATE OR REPLACE FUNCTION kpr.audit_fields(r kpr.audit) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT ARRAY[r.chain_seq::text, r.id::text,
               to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               r.actor, r.os_user, r.role, r.action, r.case_no, r.reason,
               encode(r.pseudonym, 'hex'), r.key_version::text, r.result_count::text, r.detail]
         || CASE WHEN r.enhet IS NOT NULL THEN ARRAY[r.submission_id::text, r.enhet]
                 WHEN r.submission_id IS NOT NULL THEN ARRAY[r.submission_id::text]
                 ELSE ARRAY[]::text[] END;
$$;

-- kprd (role kpr_ingest) records staff downloads; p_enhet NULL: the whole
-- file. A unit the submission's feedback does not name is refused, and
-- with it the download (a download that cannot be audited is not served).
CREATE FUNCTION kpr.audit_staff_download(p_submission uuid, p_format text, p_token_id bigint,
                                         p_enhet text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  aid bigint;
BEGIN
  IF p_enhet IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kpr.feedback_unit u
                                         WHERE u.submission_id = p_submission
                                           AND u.enhet = p_enhet) THEN
    RAISE EXCEPTION 'submission % has no feedback of that unit', p_submission
      USING ERRCODE = '22023';
  END IF;
  INSERT INTO kpr.audit (action, role, submission_id, enhet, detail)
  VALUES ('staff_download', 'staff', p_submission, p_enhet,
          format('format=%s token=%s', p_format, p_token_id))
  RETURNING id INTO aid;
  RETURN aid;
END
$$;

REVOKE ALL ON FUNCTION kpr.audit_staff_download(uuid, text, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpr.audit_staff_download(uuid, text, bigint, text) TO kpr_ingest;
