-- 0002_audit_chain.sql — hash chains over the vault's audit tables
-- (vault.reid_audit, vault.key_event), so a changed, removed or inserted
-- row is detectable by `kprctl audit verify` (docs/reidentification.md).
--
-- Applied by `kprctl db migrate` as a superuser, in one transaction.
--
-- Each audit table is its own chain. A BEFORE INSERT trigger (the last one
-- to fire, hence "zz_") sets, whatever the inserter supplied:
--   chain_seq  1, 2, 3, ... without gaps, in append order
--   prev_hash  row_hash of the row before (the genesis hash for the first:
--              sha256('KPR-audit-chain-v1 ' || '<schema>.<table>'))
--   row_hash   sha256(prev_hash || payload)
-- payload = the row's fields, each as text, each written as a netstring
-- "<octets>:<text>," (NULL as "N,"), in the order the *_fields() function
-- below lists them. Timestamps are written in UTC with microseconds
-- (YYYY-MM-DD"T"HH24:MI:SS.US"Z"), booleans as t/f, bytea as lowercase hex.
-- kprctl recomputes all of this in C from the plain columns: verification
-- never trusts a function stored in the database.
--
-- Appends are serialised by the chain's head row in vault.audit_chain,
-- locked FOR UPDATE by the trigger, so two concurrent inserts can never
-- share a prev_hash; the head also records the last sequence number and
-- hash, so removing the newest rows is detected too.
--
-- Also: reid_fetch records the operator's OS user and the database role
-- the lookup was made under, and refuses a case number or reason that
-- contains something that looks like a national ID (11 digits in a row).

SET ROLE kpr_vault_owner;

CREATE TABLE vault.audit_chain (
  chain text PRIMARY KEY,           -- "<schema>.<table>"
  last_seq bigint NOT NULL,
  last_hash bytea NOT NULL CHECK (octet_length(last_hash) = 32)
);

ALTER TABLE vault.reid_audit
  ADD COLUMN os_user text,          -- the operator's OS user as kprctl saw it (unverified)
  ADD COLUMN role text,             -- database role the lookup ran under
  ADD COLUMN chain_seq bigint,
  ADD COLUMN prev_hash bytea,
  ADD COLUMN row_hash bytea;
ALTER TABLE vault.key_event
  ADD COLUMN chain_seq bigint,
  ADD COLUMN prev_hash bytea,
  ADD COLUMN row_hash bytea;

CREATE FUNCTION vault.audit_genesis(p_chain text) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT sha256(convert_to('KPR-audit-chain-v1 ' || p_chain, 'UTF8'));
$$;

CREATE FUNCTION vault.audit_payload(p_fields text[]) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT convert_to(coalesce(string_agg(
           CASE WHEN f IS NULL THEN 'N,'
                ELSE octet_length(convert_to(f, 'UTF8'))::text || ':' || f || ','
           END, '' ORDER BY n), ''), 'UTF8')
  FROM unnest(p_fields) WITH ORDINALITY AS u(f, n);
$$;

CREATE FUNCTION vault.audit_ts(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
$$;

CREATE FUNCTION vault.reid_audit_fields(r vault.reid_audit) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT ARRAY[r.chain_seq::text, r.id::text, vault.audit_ts(r.at), r.actor, r.os_user, r.role,
               r.case_no, r.reason, encode(r.pseudonym, 'hex'), r.key_version::text,
               CASE WHEN r.found THEN 't' ELSE 'f' END];
$$;

CREATE FUNCTION vault.key_event_fields(r vault.key_event) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT ARRAY[r.chain_seq::text, r.id::text, vault.audit_ts(r.at), r.actor, r.event, r.detail];
$$;

-- The role a lookup ran under: what an auditor wants to know is whether
-- it came through the kpr_reid grant or from an administrator.
CREATE FUNCTION vault.audit_role() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN 'superuser'
    WHEN pg_has_role(session_user, 'kpr_reid', 'MEMBER') THEN 'kpr_reid'
    WHEN pg_has_role(session_user, 'kpr_vault_owner', 'MEMBER') THEN 'kpr_vault_owner'
    ELSE session_user::text
  END;
$$;

-- SECURITY DEFINER: whoever inserts (through reid_fetch, put_batch or as
-- an administrator) advances the head as the owner; nobody else may.
CREATE FUNCTION vault.audit_chain_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  chain_name text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  head vault.audit_chain;
  fields text[];
BEGIN
  SELECT * INTO head FROM vault.audit_chain WHERE chain = chain_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit chain % has no head row', chain_name USING ERRCODE = 'XX000';
  END IF;
  NEW.chain_seq := head.last_seq + 1;
  NEW.prev_hash := head.last_hash;
  IF TG_TABLE_NAME = 'reid_audit' THEN
    NEW.role := coalesce(NEW.role, vault.audit_role());
    fields := vault.reid_audit_fields(NEW);
  ELSIF TG_TABLE_NAME = 'key_event' THEN
    fields := vault.key_event_fields(NEW);
  ELSE
    RAISE EXCEPTION 'audit_chain_append: no field list for %', chain_name;
  END IF;
  NEW.row_hash := sha256(NEW.prev_hash || vault.audit_payload(fields));
  UPDATE vault.audit_chain SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash
    WHERE chain = chain_name;
  RETURN NEW;
END
$$;

-- Chain the rows written before this migration, in id order. The
-- append-only triggers are lifted for this one backfill only.
ALTER TABLE vault.reid_audit DISABLE TRIGGER reid_audit_append_only;
ALTER TABLE vault.key_event DISABLE TRIGGER key_event_append_only;
DO $$
DECLARE
  prev bytea;
  seq bigint;
  ra vault.reid_audit;
  ke vault.key_event;
BEGIN
  prev := vault.audit_genesis('vault.reid_audit');
  seq := 0;
  FOR ra IN SELECT * FROM vault.reid_audit ORDER BY id LOOP
    seq := seq + 1;
    ra.chain_seq := seq;
    ra.prev_hash := prev;
    ra.row_hash := sha256(prev || vault.audit_payload(vault.reid_audit_fields(ra)));
    UPDATE vault.reid_audit SET chain_seq = ra.chain_seq, prev_hash = ra.prev_hash,
      row_hash = ra.row_hash WHERE id = ra.id;
    prev := ra.row_hash;
  END LOOP;
  INSERT INTO vault.audit_chain VALUES ('vault.reid_audit', seq, prev);

  prev := vault.audit_genesis('vault.key_event');
  seq := 0;
  FOR ke IN SELECT * FROM vault.key_event ORDER BY id LOOP
    seq := seq + 1;
    ke.chain_seq := seq;
    ke.prev_hash := prev;
    ke.row_hash := sha256(prev || vault.audit_payload(vault.key_event_fields(ke)));
    UPDATE vault.key_event SET chain_seq = ke.chain_seq, prev_hash = ke.prev_hash,
      row_hash = ke.row_hash WHERE id = ke.id;
    prev := ke.row_hash;
  END LOOP;
  INSERT INTO vault.audit_chain VALUES ('vault.key_event', seq, prev);
END
$$;
ALTER TABLE vault.reid_audit ENABLE TRIGGER reid_audit_append_only;
ALTER TABLE vault.key_event ENABLE TRIGGER key_event_append_only;

ALTER TABLE vault.reid_audit
  ALTER COLUMN chain_seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN row_hash SET NOT NULL,
  ADD CONSTRAINT reid_audit_chain_seq UNIQUE (chain_seq);
ALTER TABLE vault.key_event
  ALTER COLUMN chain_seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN row_hash SET NOT NULL,
  ADD CONSTRAINT key_event_chain_seq UNIQUE (chain_seq);

CREATE TRIGGER zz_audit_chain BEFORE INSERT ON vault.reid_audit
  FOR EACH ROW EXECUTE FUNCTION vault.audit_chain_append();
CREATE TRIGGER zz_audit_chain BEFORE INSERT ON vault.key_event
  FOR EACH ROW EXECUTE FUNCTION vault.audit_chain_append();

-- The head is the chain's anchor: no UPDATE/DELETE except by the trigger
-- (which runs as the owner); nobody else holds any privilege on it.
CREATE FUNCTION vault.forbid_head_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'audit_chain heads move only with an audit insert' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_guard BEFORE UPDATE ON vault.audit_chain
  FOR EACH ROW EXECUTE FUNCTION vault.forbid_head_change();
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE OR TRUNCATE ON vault.audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION vault.forbid_change();

-- reid_fetch with the operator's OS user: same contract as before (case
-- number and a reason of 10+ characters, the audit row in the same
-- statement), and neither may carry something that looks like an ID.
CREATE FUNCTION vault.reid_fetch(p_pseudonym bytea, p_key_version integer,
                                 p_case_no text, p_reason text, p_os_user text)
RETURNS TABLE (reid_key_id text, enc bytea, seq bigint, ct bytea,
               first_seen timestamptz, last_seen timestamptz, audit_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  hit boolean;
  aid bigint;
BEGIN
  IF coalesce(btrim(p_case_no), '') = '' OR length(btrim(coalesce(p_reason, ''))) < 10 THEN
    RAISE EXCEPTION 're-identification needs a case number and a reason (10+ characters)'
      USING ERRCODE = '22023';
  END IF;
  IF p_case_no ~ '[0-9]{11}' OR p_reason ~ '[0-9]{11}' OR coalesce(p_os_user, '') ~ '[0-9]{11}' THEN
    RAISE EXCEPTION 'case number and reason must not contain a national ID'
      USING ERRCODE = '22023';
  END IF;
  IF p_pseudonym IS NULL OR octet_length(p_pseudonym) <> 16 OR p_key_version IS NULL THEN
    RAISE EXCEPTION 'reid_fetch: a pseudonym is 16 bytes with a key version' USING ERRCODE = '22023';
  END IF;
  hit := EXISTS (SELECT 1 FROM vault.entry e
                 WHERE e.key_version = p_key_version AND e.pseudonym = p_pseudonym);
  INSERT INTO vault.reid_audit (actor, os_user, case_no, reason, pseudonym, key_version, found)
    VALUES (session_user, nullif(btrim(p_os_user), ''), btrim(p_case_no), btrim(p_reason),
            p_pseudonym, p_key_version, hit)
    RETURNING id INTO aid;
  RAISE LOG 'kpr vault reid_fetch: actor=% os_user=% case=% pseudonym=%:% found=% audit=%',
    session_user, p_os_user, btrim(p_case_no), p_key_version, encode(p_pseudonym, 'hex'), hit, aid;
  RETURN QUERY
    SELECT e.reid_key_id, e.enc, e.seq, e.ct, e.first_seen, e.last_seen, aid
    FROM vault.entry e
    WHERE e.key_version = p_key_version AND e.pseudonym = p_pseudonym;
  IF NOT hit THEN
    RETURN QUERY SELECT NULL::text, NULL::bytea, NULL::bigint, NULL::bytea,
                        NULL::timestamptz, NULL::timestamptz, aid;
  END IF;
END
$$;

-- The original four-argument form keeps working (no OS user recorded).
CREATE OR REPLACE FUNCTION vault.reid_fetch(p_pseudonym bytea, p_key_version integer,
                                            p_case_no text, p_reason text)
RETURNS TABLE (reid_key_id text, enc bytea, seq bigint, ct bytea,
               first_seen timestamptz, last_seen timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT f.reid_key_id, f.enc, f.seq, f.ct, f.first_seen, f.last_seen
  FROM vault.reid_fetch(p_pseudonym, p_key_version, p_case_no, p_reason, NULL) f
  WHERE f.enc IS NOT NULL;
$$;

RESET ROLE;

REVOKE ALL ON vault.audit_chain FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault.put_batch(integer, text, text, bytea, bytea[], bigint[], bytea[])
  TO kpr_ingest;
GRANT EXECUTE ON FUNCTION vault.put(bytea, integer, text, text, bytea, bigint, bytea) TO kpr_ingest;
GRANT EXECUTE ON FUNCTION vault.reid_fetch(bytea, integer, text, text) TO kpr_reid;
GRANT EXECUTE ON FUNCTION vault.reid_fetch(bytea, integer, text, text, text) TO kpr_reid;
-- Auditors (a NOLOGIN group; grant it to a person's login) read the audit
-- tables and heads, nothing else: the chain can be verified without owner
-- rights.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_auditor') THEN
    CREATE ROLE kpr_auditor NOLOGIN;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO kpr_auditor', current_database());
END
$$;
GRANT USAGE ON SCHEMA vault TO kpr_auditor;
GRANT SELECT ON vault.reid_audit, vault.key_event, vault.audit_chain TO kpr_auditor;
