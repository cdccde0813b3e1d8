-- 0005_identity_and_oslo_time.sql — identifiers in columns of their own,
-- and one clock for everything shown.
--
-- 1. kpr.audit keeps the submission an entry is about in a uuid column.
--    Until now the id went into `detail`, whose CHECK refuses 11 digits in a
--    row (a national ID must never reach free text); the last group of a
--    UUID often has 11 digits in a row, so about 1 in 128 submissions could
--    never be downloaded by staff (the audit insert failed) nor reprocessed.
--    The hash chain covers the new column: kpr.audit_fields() appends it
--    only when it is set, so every row written before this migration keeps
--    the payload, and the hash, it was chained with.
-- 2. kpr.oslo_time(): received and processed times are shown in Norwegian
--    time (Europe/Oslo) with their UTC offset everywhere (SPEC §6), whatever
--    the server's or the session's time zone is.

ALTER TABLE kpr.audit ADD COLUMN submission_id uuid;
CREATE INDEX audit_submission_idx ON kpr.audit (submission_id) WHERE submission_id IS NOT NULL;

CREATE OR REPLACE FUNCTION kpr.audit_fields(r kpr.audit) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT ARRAY[r.chain_seq::text, r.id::text,
               to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               r.actor, r.os_user, r.role, r.action, r.case_no, r.reason,
               encode(r.pseudonym, 'hex'), r.key_version::text, r.result_count::text, r.detail]
         || CASE WHEN r.submission_id IS NULL THEN ARRAY[]::text[]
                 ELSE ARRAY[r.submission_id::text] END;
$$;

CREATE FUNCTION kpr.audit_admin(p_action text, p_os_user text, p_detail text, p_submission uuid)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO kpr.audit (action, os_user, detail, submission_id)
  VALUES (p_action, p_os_user, p_detail, p_submission)
  RETURNING id;
$$;
REVOKE ALL ON FUNCTION kpr.audit_admin(text, text, text, uuid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION kpr.audit_staff_download(p_submission uuid, p_format text,
                                                    p_token_id bigint)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO kpr.audit (action, role, submission_id, detail)
  VALUES ('staff_download', 'staff', p_submission,
          format('format=%s token=%s', p_format, p_token_id))
  RETURNING id;
$$;

-- 'YYYY-MM-DD"T"HH24:MI:SS+01:00' (with_ms: '.MS' before the offset)
CREATE FUNCTION kpr.oslo_time(t timestamptz, with_ms boolean DEFAULT false) RETURNS text
LANGUAGE sql STABLE SET TimeZone = 'Europe/Oslo' AS $$
  SELECT to_char(t, CASE WHEN with_ms THEN 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM'
                         ELSE 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM' END);
$$;
REVOKE ALL ON FUNCTION kpr.oslo_time(timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpr.oslo_time(timestamptz, boolean) TO kpr_ingest, kpr_register_reader;

-- 3. Whether Fodselsaar was in the file or derived from the national ID, so
--    the registrations a submission loaded can be counted again from the
--    register alone (kprctl verify): Fnr, Kjonn, Fodselsaar and Dodsdato are
--    each a registration when present (SPEC §1).
ALTER TABLE kpr.person ADD COLUMN fodselsaar_oppgitt boolean NOT NULL DEFAULT true;
