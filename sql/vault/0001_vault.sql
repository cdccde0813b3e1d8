-- 0001_vault.sql — the ID vault (SPEC §4): national IDs encrypted to the
-- re-identification public key, one row per pseudonym, in a database (a
-- separate cluster in production) apart from the health data.
--
-- Applied by a superuser with psql -v ON_ERROR_STOP=1 (or kprctl db migrate)
-- inside one transaction. No BEGIN/COMMIT here.
--
-- Duties:
--   kpr_vault_owner  NOLOGIN, owns every object; nobody logs in as it.
--   kpr_ingest       may only EXECUTE vault.put_batch / vault.put: it adds
--                    rows, can never read one back (no SELECT anywhere).
--   kpr_reid         NOLOGIN group for authorised staff: may only EXECUTE
--                    vault.reid_fetch, which demands a case number and a
--                    reason and writes the audit row in the same statement.
--                    (Plain SELECT on vault.entry would let a lookup skip
--                    the audit, so it is not granted.) Grant it to a
--                    person's own login role: GRANT kpr_reid TO alice;
--
-- Encryption (see docs/keys.md): HPKE base mode, DHKEM(X25519, HKDF-SHA256),
-- HKDF-SHA256, AES-256-GCM, info "KPR-vault-v1 national-id". Ingest sets up
-- one encapsulation per batch and seals each ID with the batch's next
-- sequence number; every row stores its own enc and seq (enc repeats within
-- a batch: 32 bytes a row, and any row opens on its own). The AEAD's
-- associated data is "KPR-vault-v1" NUL || key_version (4 bytes, big
-- endian) || pseudonym, so a ciphertext moved to another row fails to open.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_vault_owner') THEN
    CREATE ROLE kpr_vault_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_ingest') THEN
    CREATE ROLE kpr_ingest LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_reid') THEN
    CREATE ROLE kpr_reid NOLOGIN;
  END IF;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO kpr_ingest, kpr_reid', current_database());
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA vault AUTHORIZATION kpr_vault_owner;
REVOKE ALL ON SCHEMA vault FROM PUBLIC;
GRANT USAGE ON SCHEMA vault TO kpr_ingest, kpr_reid;

-- Everything below is created as, and so owned by, kpr_vault_owner.
SET ROLE kpr_vault_owner;

-- Keys this vault knows. Every row names its keys, so rows made with a test
-- key cannot enter a production vault unnoticed: the first batch ever
-- registers its keys (trust on first use); after that an unknown key
-- version or reid key, or a fingerprint that differs, is refused, and a new
-- key is registered by the owner (kprctl) as part of a planned rotation.
CREATE TABLE vault.pseudonym_key (
  version integer PRIMARY KEY CHECK (version >= 1),
  fingerprint text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{16}$'),
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by text NOT NULL DEFAULT session_user
);

CREATE TABLE vault.reid_key (
  key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),  -- fingerprint of the public key
  suite text NOT NULL DEFAULT 'DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM',
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by text NOT NULL DEFAULT session_user,
  retired_at timestamptz   -- no new rows once set
);

CREATE TABLE vault.entry (
  pseudonym bytea NOT NULL CHECK (octet_length(pseudonym) = 16),
  key_version integer NOT NULL REFERENCES vault.pseudonym_key (version),
  reid_key_id text NOT NULL REFERENCES vault.reid_key (key_id),
  enc bytea NOT NULL CHECK (octet_length(enc) = 32),   -- HPKE encapsulated key of the batch
  seq bigint NOT NULL CHECK (seq >= 0),                -- HPKE sequence number within the batch
  ct bytea NOT NULL CHECK (octet_length(ct) = 27),     -- 11 ID digits + 16-byte GCM tag
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_version, pseudonym)
);
-- Within one encapsulation no sequence number may repeat (nonce reuse).
CREATE UNIQUE INDEX entry_enc_seq ON vault.entry (enc, seq);

-- Append-only audit of re-identification lookups: who, when, case, reason,
-- pseudonym; never the national ID.
CREATE TABLE vault.reid_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  case_no text NOT NULL CHECK (btrim(case_no) <> ''),
  reason text NOT NULL CHECK (length(btrim(reason)) >= 10),
  pseudonym bytea NOT NULL,
  key_version integer NOT NULL,
  found boolean NOT NULL
);

-- Key events (keys.init, keys.rotate_kek, key registration) from kprctl:
-- ids, versions and fingerprints only, never key material.
CREATE TABLE vault.key_event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL DEFAULT session_user,
  event text NOT NULL,
  detail text NOT NULL
);

CREATE FUNCTION vault.forbid_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER reid_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON vault.reid_audit
  FOR EACH STATEMENT EXECUTE FUNCTION vault.forbid_change();
CREATE TRIGGER key_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON vault.key_event
  FOR EACH STATEMENT EXECUTE FUNCTION vault.forbid_change();

-- Checks (and on first use registers) the keys a batch names.
CREATE FUNCTION vault.check_keys(p_key_version integer, p_key_fp text, p_reid_key_id text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  known text;
  retired timestamptz;
BEGIN
  SELECT fingerprint INTO known FROM vault.pseudonym_key WHERE version = p_key_version;
  IF NOT FOUND THEN
    LOCK TABLE vault.pseudonym_key IN SHARE ROW EXCLUSIVE MODE;
    -- another session may have registered it while we waited for the lock
    SELECT fingerprint INTO known FROM vault.pseudonym_key WHERE version = p_key_version;
  END IF;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM vault.pseudonym_key) THEN
      RAISE EXCEPTION 'pseudonym key version % is not registered in this vault', p_key_version
        USING ERRCODE = 'KV001', HINT = 'register new key versions with kprctl (planned re-keying)';
    END IF;
    INSERT INTO vault.pseudonym_key (version, fingerprint) VALUES (p_key_version, p_key_fp);
    INSERT INTO vault.key_event (event, detail)
      VALUES ('vault.register_pseudonym_key', format('version=%s fp=%s (first use)', p_key_version, p_key_fp));
    known := p_key_fp;
  END IF;
  IF known IS DISTINCT FROM p_key_fp THEN
    RAISE EXCEPTION 'pseudonym key version % has fingerprint %, this vault knows %',
      p_key_version, p_key_fp, known
      USING ERRCODE = 'KV002', HINT = 'a test key against a production vault, or the reverse?';
  END IF;

  SELECT retired_at INTO retired FROM vault.reid_key WHERE key_id = p_reid_key_id;
  IF NOT FOUND THEN
    LOCK TABLE vault.reid_key IN SHARE ROW EXCLUSIVE MODE;
    SELECT retired_at INTO retired FROM vault.reid_key WHERE key_id = p_reid_key_id;
  END IF;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM vault.reid_key) THEN
      RAISE EXCEPTION 're-identification key % is not registered in this vault', p_reid_key_id
        USING ERRCODE = 'KV001', HINT = 'register a new reid key with kprctl';
    END IF;
    INSERT INTO vault.reid_key (key_id) VALUES (p_reid_key_id);
    INSERT INTO vault.key_event (event, detail)
      VALUES ('vault.register_reid_key', format('id=%s (first use)', p_reid_key_id));
  ELSIF retired IS NOT NULL THEN
    RAISE EXCEPTION 're-identification key % was retired at %', p_reid_key_id, retired
      USING ERRCODE = 'KV003';
  END IF;
END
$$;

-- Adds one batch (one HPKE encapsulation p_enc; element i sealed with
-- sequence number p_seqs[i]). A pseudonym already in the vault keeps its
-- first ciphertext and only gets last_seen updated: ingest can never
-- overwrite (or destroy) what re-identification relies on. Idempotent, so
-- a retried job is safe. Returns the number of new rows.
CREATE FUNCTION vault.put_batch(p_key_version integer, p_key_fp text, p_reid_key_id text,
                                p_enc bytea, p_pseudonyms bytea[], p_seqs bigint[],
                                p_cts bytea[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n_new integer;
BEGIN
  IF cardinality(p_pseudonyms) <> cardinality(p_seqs)
     OR cardinality(p_pseudonyms) <> cardinality(p_cts) THEN
    RAISE EXCEPTION 'put_batch: arrays of different lengths' USING ERRCODE = '22023';
  END IF;
  PERFORM vault.check_keys(p_key_version, p_key_fp, p_reid_key_id);
  WITH rows AS (
    SELECT DISTINCT ON (u.p) u.p, u.s, u.c
    FROM unnest(p_pseudonyms, p_seqs, p_cts) AS u(p, s, c)
    ORDER BY u.p, u.s
  ), ins AS (
    INSERT INTO vault.entry AS e (pseudonym, key_version, reid_key_id, enc, seq, ct)
    SELECT r.p, p_key_version, p_reid_key_id, p_enc, r.s, r.c FROM rows r
    ON CONFLICT (key_version, pseudonym) DO UPDATE SET last_seen = now()
    RETURNING (xmax = 0) AS inserted
  )
  SELECT count(*) FILTER (WHERE inserted) INTO n_new FROM ins;
  RETURN n_new;
END
$$;

-- One row (a batch of one).
CREATE FUNCTION vault.put(p_pseudonym bytea, p_key_version integer, p_key_fp text,
                          p_reid_key_id text, p_enc bytea, p_seq bigint, p_ct bytea)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT vault.put_batch(p_key_version, p_key_fp, p_reid_key_id, p_enc,
                         ARRAY[p_pseudonym], ARRAY[p_seq], ARRAY[p_ct]) = 1;
$$;

-- Re-identification: returns the sealed row for one pseudonym and writes
-- the audit row in the same transaction (also to the server log, which a
-- rolled-back transaction cannot take back). Decryption happens on the
-- operator's machine with the private key; the database never sees it.
CREATE FUNCTION vault.reid_fetch(p_pseudonym bytea, p_key_version integer,
                                 p_case_no text, p_reason text)
RETURNS TABLE (reid_key_id text, enc bytea, seq bigint, ct bytea,
               first_seen timestamptz, last_seen timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  hit boolean;
BEGIN
  IF coalesce(btrim(p_case_no), '') = '' OR length(btrim(coalesce(p_reason, ''))) < 10 THEN
    RAISE EXCEPTION 're-identification needs a case number and a reason (10+ characters)'
      USING ERRCODE = '22023';
  END IF;
  hit := EXISTS (SELECT 1 FROM vault.entry e
                 WHERE e.key_version = p_key_version AND e.pseudonym = p_pseudonym);
  INSERT INTO vault.reid_audit (actor, case_no, reason, pseudonym, key_version, found)
    VALUES (session_user, btrim(p_case_no), btrim(p_reason), p_pseudonym, p_key_version, hit);
  RAISE LOG 'kpr vault reid_fetch: actor=% case=% pseudonym=%:% found=%',
    session_user, btrim(p_case_no), p_key_version, encode(p_pseudonym, 'hex'), hit;
  RETURN QUERY
    SELECT e.reid_key_id, e.enc, e.seq, e.ct, e.first_seen, e.last_seen
    FROM vault.entry e
    WHERE e.key_version = p_key_version AND e.pseudonym = p_pseudonym;
END
$$;

RESET ROLE;

-- Functions are executable by PUBLIC by default: take that back first.
REVOKE ALL ON ALL TABLES IN SCHEMA vault FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault.put_batch(integer, text, text, bytea, bytea[], bigint[], bytea[])
  TO kpr_ingest;
GRANT EXECUTE ON FUNCTION vault.put(bytea, integer, text, text, bytea, bigint, bytea) TO kpr_ingest;
GRANT EXECUTE ON FUNCTION vault.reid_fetch(bytea, integer, text, text) TO kpr_reid;
