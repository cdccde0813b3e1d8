-- 0002_reservation_audit.sql — the register's side of re-identification
-- (SPEC §4, docs/reidentification.md):
--   kpr.audit          append-only, hash-chained audit of administrative
--                      actions on persons (innsyn lookups by national ID,
--                      reservations); pseudonyms only, never a national ID
--   kpr.reservation    reservations against disclosure, per pseudonym
--   kpr.disclosure_*   the current register without reserved persons: the
--                      only person-level data kpr_register_reader may read
--   kpr.innsyn(), kpr.reserve(), kpr.unreserve()
--                      SECURITY DEFINER entry points that write the audit
--                      row in the same statement as the action
--
-- Applied by `kprctl db migrate` as a superuser, in one transaction.
--
-- Roles:
--   kpr_register_owner  NOLOGIN; owns everything created here.
--   kpr_reid            NOLOGIN group for authorised staff (the same role
--                       the vault uses): EXECUTE on innsyn/reserve/unreserve.
--   kpr_auditor         NOLOGIN group: reads the audit table and its head.
--   kpr_register_reader loses direct SELECT on person-level tables; it reads
--                       the disclosure views instead, so no extract can
--                       include a reserved person by accident.
--
-- The hash chain is the same construction as the vault's (see
-- sql/vault/0002_audit_chain.sql): chain_seq without gaps, prev_hash,
-- row_hash = sha256(prev_hash || netstring payload of the fields listed in
-- kpr.audit_fields()), genesis sha256('KPR-audit-chain-v1 kpr.audit'); the
-- head row in kpr.audit_chain, locked FOR UPDATE, serialises appends.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_register_owner') THEN
    CREATE ROLE kpr_register_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_reid') THEN
    CREATE ROLE kpr_reid NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_auditor') THEN
    CREATE ROLE kpr_auditor NOLOGIN;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO kpr_reid, kpr_auditor', current_database());
END
$$;

GRANT USAGE, CREATE ON SCHEMA kpr TO kpr_register_owner;
GRANT USAGE ON SCHEMA kpr TO kpr_reid, kpr_auditor;
-- What the owner's views and functions read.
GRANT SELECT ON kpr.person, kpr.vurdering, kpr.tjeneste, kpr.diagnose, kpr.registrering,
  kpr.submission, kpr.current_submission, kpr.current_person, kpr.kommune, kpr.kode
  TO kpr_register_owner;

SET ROLE kpr_register_owner;

-- Audit -------------------------------------------------------------------

CREATE TABLE kpr.audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL DEFAULT session_user,  -- the database login
  os_user text,                              -- the operator's OS user (from kprctl; unverified)
  role text,                                 -- the role the action ran under
  action text NOT NULL CHECK (action IN ('innsyn', 'reserve', 'unreserve')),
  case_no text NOT NULL CHECK (btrim(case_no) <> ''),
  reason text,
  pseudonym bytea CHECK (octet_length(pseudonym) = 16),
  key_version integer,
  result_count integer NOT NULL DEFAULT 0,
  detail text,
  chain_seq bigint NOT NULL UNIQUE,
  prev_hash bytea NOT NULL,
  row_hash bytea NOT NULL,
  CHECK (action <> 'innsyn' OR length(btrim(coalesce(reason, ''))) >= 10),
  -- nothing that looks like a national ID goes into free text
  CHECK (case_no !~ '[0-9]{11}' AND coalesce(reason, '') !~ '[0-9]{11}'
         AND coalesce(detail, '') !~ '[0-9]{11}' AND coalesce(os_user, '') !~ '[0-9]{11}')
);
CREATE INDEX audit_pseudonym_idx ON kpr.audit (pseudonym);

CREATE TABLE kpr.audit_chain (
  chain text PRIMARY KEY,
  last_seq bigint NOT NULL,
  last_hash bytea NOT NULL CHECK (octet_length(last_hash) = 32)
);

CREATE FUNCTION kpr.audit_genesis(p_chain text) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT sha256(convert_to('KPR-audit-chain-v1 ' || p_chain, 'UTF8'));
$$;

INSERT INTO kpr.audit_chain VALUES ('kpr.audit', 0, kpr.audit_genesis('kpr.audit'));

CREATE FUNCTION kpr.audit_payload(p_fields text[]) RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT convert_to(coalesce(string_agg(
           CASE WHEN f IS NULL THEN 'N,'
                ELSE octet_length(convert_to(f, 'UTF8'))::text || ':' || f || ','
           END, '' ORDER BY n), ''), 'UTF8')
  FROM unnest(p_fields) WITH ORDINALITY AS u(f, n);
$$;

CREATE FUNCTION kpr.audit_fields(r kpr.audit) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT ARRAY[r.chain_seq::text, r.id::text,
               to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               r.actor, r.os_user, r.role, r.action, r.case_no, r.reason,
               encode(r.pseudonym, 'hex'), r.key_version::text, r.result_count::text, r.detail];
$$;

CREATE FUNCTION kpr.audit_role() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN 'superuser'
    WHEN pg_has_role(session_user, 'kpr_reid', 'MEMBER') THEN 'kpr_reid'
    WHEN pg_has_role(session_user, 'kpr_register_owner', 'MEMBER') THEN 'kpr_register_owner'
    ELSE session_user::text
  END;
$$;

CREATE FUNCTION kpr.audit_chain_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  head kpr.audit_chain;
BEGIN
  SELECT * INTO head FROM kpr.audit_chain WHERE chain = 'kpr.audit' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit chain kpr.audit has no head row' USING ERRCODE = 'XX000';
  END IF;
  NEW.role := coalesce(NEW.role, kpr.audit_role());
  NEW.chain_seq := head.last_seq + 1;
  NEW.prev_hash := head.last_hash;
  NEW.row_hash := sha256(NEW.prev_hash || kpr.audit_payload(kpr.audit_fields(NEW)));
  UPDATE kpr.audit_chain SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash
    WHERE chain = 'kpr.audit';
  RETURN NEW;
END
$$;
CREATE TRIGGER zz_audit_chain BEFORE INSERT ON kpr.audit
  FOR EACH ROW EXECUTE FUNCTION kpr.audit_chain_append();

CREATE FUNCTION kpr.forbid_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON kpr.audit
  FOR EACH STATEMENT EXECUTE FUNCTION kpr.forbid_change();

CREATE FUNCTION kpr.forbid_head_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'audit_chain heads move only with an audit insert' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_guard BEFORE UPDATE ON kpr.audit_chain
  FOR EACH ROW EXECUTE FUNCTION kpr.forbid_head_change();
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE OR TRUNCATE ON kpr.audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION kpr.forbid_change();

-- Reservations --------------------------------------------------------------

-- One row per reservation; revoking fills revoked_*; rows are never
-- deleted (history of a person's reservations is kept).
CREATE TABLE kpr.reservation (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pseudonym bytea NOT NULL CHECK (octet_length(pseudonym) = 16),
  key_version integer NOT NULL,
  case_no text NOT NULL CHECK (btrim(case_no) <> ''),
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  revoked_at timestamptz,
  revoked_by text,
  revoked_case_no text,
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- at most one active reservation per person
CREATE UNIQUE INDEX reservation_active ON kpr.reservation (key_version, pseudonym)
  WHERE revoked_at IS NULL;

CREATE FUNCTION kpr.reservation_no_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'reservations are revoked, never deleted' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER reservation_keep BEFORE DELETE OR TRUNCATE ON kpr.reservation
  FOR EACH STATEMENT EXECUTE FUNCTION kpr.reservation_no_delete();

CREATE FUNCTION kpr.check_free_text(p_case_no text, p_reason text, p_os_user text, p_min_reason integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF coalesce(btrim(p_case_no), '') = '' THEN
    RAISE EXCEPTION 'a case number is required' USING ERRCODE = '22023';
  END IF;
  IF p_min_reason > 0 AND length(btrim(coalesce(p_reason, ''))) < p_min_reason THEN
    RAISE EXCEPTION 'a reason of % or more characters is required', p_min_reason
      USING ERRCODE = '22023';
  END IF;
  IF p_case_no ~ '[0-9]{11}' OR coalesce(p_reason, '') ~ '[0-9]{11}'
     OR coalesce(p_os_user, '') ~ '[0-9]{11}' THEN
    RAISE EXCEPTION 'case number and reason must not contain a national ID'
      USING ERRCODE = '22023';
  END IF;
END
$$;

CREATE FUNCTION kpr.is_reserved(p_pseudonym bytea, p_key_version integer) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM kpr.reservation r
                 WHERE r.pseudonym = p_pseudonym AND r.key_version = p_key_version
                   AND r.revoked_at IS NULL);
$$;

-- Reserves a person against disclosure. Idempotent: an active reservation
-- is returned as it is (created = false). Audited either way.
CREATE FUNCTION kpr.reserve(p_pseudonym bytea, p_key_version integer, p_case_no text,
                            p_reason text, p_os_user text)
RETURNS TABLE (reservation_id bigint, created boolean, audit_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rid bigint;
  made boolean := false;
  aid bigint;
  actor_name text := session_user || coalesce(' (' || nullif(btrim(p_os_user), '') || ')', '');
BEGIN
  PERFORM kpr.check_free_text(p_case_no, p_reason, p_os_user, 0);
  IF octet_length(p_pseudonym) IS DISTINCT FROM 16 OR p_key_version IS NULL THEN
    RAISE EXCEPTION 'a pseudonym is 16 bytes with a key version' USING ERRCODE = '22023';
  END IF;
  -- serialise reservations of the same person
  PERFORM pg_advisory_xact_lock(hashtextextended(encode(p_pseudonym, 'hex'), p_key_version));
  SELECT r.id INTO rid FROM kpr.reservation r
    WHERE r.pseudonym = p_pseudonym AND r.key_version = p_key_version AND r.revoked_at IS NULL;
  IF NOT FOUND THEN
    INSERT INTO kpr.reservation (pseudonym, key_version, case_no, reason, created_by)
      VALUES (p_pseudonym, p_key_version, btrim(p_case_no), nullif(btrim(p_reason), ''), actor_name)
      RETURNING id INTO rid;
    made := true;
  END IF;
  INSERT INTO kpr.audit (os_user, action, case_no, reason, pseudonym, key_version, result_count, detail)
    VALUES (nullif(btrim(p_os_user), ''), 'reserve', btrim(p_case_no), nullif(btrim(p_reason), ''),
            p_pseudonym, p_key_version, CASE WHEN made THEN 1 ELSE 0 END,
            format('reservation %s%s', rid, CASE WHEN made THEN '' ELSE ' already active' END))
    RETURNING id INTO aid;
  RETURN QUERY SELECT rid, made, aid;
END
$$;

-- Revokes the active reservation; zero rows when there is none (audited
-- either way).
CREATE FUNCTION kpr.unreserve(p_pseudonym bytea, p_key_version integer, p_case_no text,
                              p_reason text, p_os_user text)
RETURNS TABLE (reservation_id bigint, audit_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  rid bigint;
  aid bigint;
  actor_name text := session_user || coalesce(' (' || nullif(btrim(p_os_user), '') || ')', '');
BEGIN
  PERFORM kpr.check_free_text(p_case_no, p_reason, p_os_user, 0);
  IF octet_length(p_pseudonym) IS DISTINCT FROM 16 OR p_key_version IS NULL THEN
    RAISE EXCEPTION 'a pseudonym is 16 bytes with a key version' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(encode(p_pseudonym, 'hex'), p_key_version));
  UPDATE kpr.reservation r SET revoked_at = now(), revoked_by = actor_name,
                               revoked_case_no = btrim(p_case_no)
    WHERE r.pseudonym = p_pseudonym AND r.key_version = p_key_version AND r.revoked_at IS NULL
    RETURNING r.id INTO rid;
  INSERT INTO kpr.audit (os_user, action, case_no, reason, pseudonym, key_version, result_count, detail)
    VALUES (nullif(btrim(p_os_user), ''), 'unreserve', btrim(p_case_no), nullif(btrim(p_reason), ''),
            p_pseudonym, p_key_version, CASE WHEN rid IS NULL THEN 0 ELSE 1 END,
            CASE WHEN rid IS NULL THEN 'no active reservation' ELSE format('reservation %s revoked', rid) END)
    RETURNING id INTO aid;
  IF rid IS NOT NULL THEN
    RETURN QUERY SELECT rid, aid;
  END IF;
END
$$;

-- Innsyn: every record the current register holds about one person, as
-- one JSON document, with the audit row written in the same statement.
CREATE FUNCTION kpr.innsyn(p_pseudonym bytea, p_key_version integer, p_case_no text,
                           p_reason text, p_os_user text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  persons jsonb;
  n integer;
  aid bigint;
BEGIN
  PERFORM kpr.check_free_text(p_case_no, p_reason, p_os_user, 10);
  IF octet_length(p_pseudonym) IS DISTINCT FROM 16 OR p_key_version IS NULL THEN
    RAISE EXCEPTION 'a pseudonym is 16 bytes with a key version' USING ERRCODE = '22023';
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'submission_id', p.submission_id,
      'kommunenummer', s.kommunenummer,
      'kommunenavn', k.navn,
      'aargang', s.aargang,
      'status', s.status,
      'received_at', s.received_at,
      'fagsystem', s.fagsystem,
      'ref', p.ref,
      'line', p.line,
      'kjonn', p.kjonn,
      'fodselsaar', p.fodselsaar,
      'dodsdato', p.dodsdato,
      'vurderinger', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                         'dato', v.dato, 'skaar', to_jsonb(v.skaar), 'line', v.line)
                         ORDER BY v.dato, v.line), '[]'::jsonb)
                      FROM kpr.vurdering v
                      WHERE v.submission_id = p.submission_id AND v.ref = p.ref),
      'tjenester', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'type', t.type,
                       'navn', (SELECT kd.navn FROM kpr.kode kd
                                WHERE kd.liste = 'tjenestetype' AND kd.kode = t.type::text
                                ORDER BY kd.gyldig_fra DESC LIMIT 1),
                       'soknad', t.soknad, 'vedtak', t.vedtak, 'start', t.start,
                       'slutt', t.slutt, 'avslag', t.avslag,
                       'timer_per_uke', t.timer_per_uke, 'timer_med_flere', t.timer_med_flere,
                       'orgnr', t.orgnr, 'line', t.line)
                       ORDER BY t.start NULLS LAST, t.line), '[]'::jsonb)
                    FROM kpr.tjeneste t
                    WHERE t.submission_id = p.submission_id AND t.ref = p.ref),
      'diagnoser', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'kodeverk', d.kodeverk, 'kode', d.kode, 'line', d.line)
                       ORDER BY d.line), '[]'::jsonb)
                    FROM kpr.diagnose d
                    WHERE d.submission_id = p.submission_id AND d.ref = p.ref),
      'registreringer', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                            'element', g.element, 'kode', g.kode, 'dato', g.dato, 'line', g.line)
                            ORDER BY g.line), '[]'::jsonb)
                         FROM kpr.registrering g
                         WHERE g.submission_id = p.submission_id AND g.ref = p.ref))
      ORDER BY s.aargang DESC, s.kommunenummer), '[]'::jsonb)
    INTO persons
    FROM kpr.person p
    JOIN kpr.current_submission s ON s.id = p.submission_id
    LEFT JOIN kpr.kommune k ON k.kommunenummer = s.kommunenummer
    WHERE p.pseudonym = p_pseudonym AND p.key_version = p_key_version;
  n := jsonb_array_length(persons);
  INSERT INTO kpr.audit (os_user, action, case_no, reason, pseudonym, key_version, result_count)
    VALUES (nullif(btrim(p_os_user), ''), 'innsyn', btrim(p_case_no), btrim(p_reason),
            p_pseudonym, p_key_version, n)
    RETURNING id INTO aid;
  RAISE LOG 'kpr innsyn: actor=% case=% pseudonym=%:% records=% audit=%',
    session_user, btrim(p_case_no), p_key_version, encode(p_pseudonym, 'hex'), n, aid;
  RETURN jsonb_build_object('key_version', p_key_version,
                            'pseudonym', encode(p_pseudonym, 'hex'),
                            'reserved', kpr.is_reserved(p_pseudonym, p_key_version),
                            'audit_id', aid,
                            'persons', persons);
END
$$;

-- Disclosure views ------------------------------------------------------------
-- The current register minus reserved persons. Every extract for
-- disclosure reads these, never the tables.

CREATE VIEW kpr.disclosure_person AS
  SELECT p.submission_id, p.ref, p.pseudonym, p.key_version, p.kjonn, p.fodselsaar, p.dodsdato,
         p.kommunenummer, p.aargang
  FROM kpr.current_person p
  WHERE NOT EXISTS (SELECT 1 FROM kpr.reservation r
                    WHERE r.pseudonym = p.pseudonym AND r.key_version = p.key_version
                      AND r.revoked_at IS NULL);

CREATE VIEW kpr.disclosure_vurdering AS
  SELECT dp.pseudonym, dp.key_version, dp.kommunenummer, dp.aargang, v.submission_id, v.ref,
         v.dato, v.skaar
  FROM kpr.vurdering v JOIN kpr.disclosure_person dp USING (submission_id, ref);

CREATE VIEW kpr.disclosure_tjeneste AS
  SELECT dp.pseudonym, dp.key_version, dp.kommunenummer, dp.aargang, t.submission_id, t.ref,
         t.type, t.soknad, t.vedtak, t.start, t.slutt, t.avslag, t.timer_per_uke,
         t.timer_med_flere, t.orgnr
  FROM kpr.tjeneste t JOIN kpr.disclosure_person dp USING (submission_id, ref);

CREATE VIEW kpr.disclosure_diagnose AS
  SELECT dp.pseudonym, dp.key_version, dp.kommunenummer, dp.aargang, d.submission_id, d.ref,
         d.kodeverk, d.kode
  FROM kpr.diagnose d JOIN kpr.disclosure_person dp USING (submission_id, ref);

CREATE VIEW kpr.disclosure_registrering AS
  SELECT dp.pseudonym, dp.key_version, dp.kommunenummer, dp.aargang, g.submission_id, g.ref,
         g.element, g.kode, g.dato
  FROM kpr.registrering g JOIN kpr.disclosure_person dp USING (submission_id, ref);

RESET ROLE;

-- Privileges ------------------------------------------------------------------
REVOKE ALL ON kpr.audit, kpr.audit_chain, kpr.reservation FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA kpr FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpr.innsyn(bytea, integer, text, text, text),
  kpr.reserve(bytea, integer, text, text, text),
  kpr.unreserve(bytea, integer, text, text, text) TO kpr_reid;
GRANT SELECT ON kpr.audit, kpr.audit_chain TO kpr_auditor;
GRANT SELECT ON kpr.disclosure_person, kpr.disclosure_vurdering, kpr.disclosure_tjeneste,
  kpr.disclosure_diagnose, kpr.disclosure_registrering TO kpr_register_reader;
-- Readers see persons only through the disclosure views.
REVOKE SELECT ON kpr.person, kpr.vurdering, kpr.tjeneste, kpr.diagnose, kpr.registrering,
  kpr.current_person FROM kpr_register_reader;
