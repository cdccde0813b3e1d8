-- 0003_admin_audit.sql — every administrative action (kprctl) and every
-- staff download of a feedback file goes into the same hash-chained,
-- append-only kpr.audit as innsyn and reservations. Only innsyn and
-- reservations need a case number.

ALTER TABLE kpr.audit DROP CONSTRAINT audit_action_check;
ALTER TABLE kpr.audit ADD CONSTRAINT audit_action_check CHECK (action IN
  ('innsyn', 'reserve', 'unreserve',
   'token_issue', 'token_revoke', 'ref_load', 'db_migrate', 'reprocess', 'staff_download'));
ALTER TABLE kpr.audit DROP CONSTRAINT audit_case_no_check;
ALTER TABLE kpr.audit ALTER COLUMN case_no DROP NOT NULL;
ALTER TABLE kpr.audit ADD CONSTRAINT audit_case_no_check
  CHECK (action NOT IN ('innsyn', 'reserve', 'unreserve') OR btrim(coalesce(case_no, '')) <> '');

-- kprctl runs as the database owner; it records what it did and who ran it.
CREATE FUNCTION kpr.audit_admin(p_action text, p_os_user text, p_detail text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO kpr.audit (action, os_user, detail) VALUES (p_action, p_os_user, p_detail)
  RETURNING id;
$$;

-- kprd (role kpr_ingest) records staff downloads; it can do nothing else to the audit.
CREATE FUNCTION kpr.audit_staff_download(p_submission uuid, p_format text, p_token_id bigint)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO kpr.audit (action, role, detail)
  VALUES ('staff_download', 'staff',
          format('submission=%s format=%s token=%s', p_submission, p_format, p_token_id))
  RETURNING id;
$$;

REVOKE ALL ON FUNCTION kpr.audit_admin(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION kpr.audit_staff_download(uuid, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpr.audit_staff_download(uuid, text, bigint) TO kpr_ingest;
