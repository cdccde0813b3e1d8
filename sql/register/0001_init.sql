-- 0001_init.sql — the register database: reference data, API tokens,
-- submissions and their job queue, the register itself (pseudonyms only),
-- and feedback download counts.
-- Applied by `kprctl db migrate` as the database owner, in one transaction.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_ingest') THEN
    CREATE ROLE kpr_ingest LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kpr_register_reader') THEN
    CREATE ROLE kpr_register_reader NOLOGIN;
  END IF;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA kpr;
GRANT USAGE ON SCHEMA kpr TO kpr_ingest, kpr_register_reader;
ALTER ROLE kpr_ingest SET search_path = kpr;

-- Reference data --------------------------------------------------------

CREATE TABLE kpr.fylke (
  fylkesnummer text PRIMARY KEY CHECK (fylkesnummer ~ '^[0-9]{2}$'),
  navn text NOT NULL
);

CREATE TABLE kpr.kommune (
  kommunenummer text PRIMARY KEY CHECK (kommunenummer ~ '^[0-9]{4}$'),
  navn text NOT NULL,
  fylkesnummer text NOT NULL REFERENCES kpr.fylke,
  gyldig_fra date NOT NULL,
  gyldig_til date
);

-- Code lists with validity periods, loaded from config/codelists.csv.
CREATE TABLE kpr.kode (
  liste text NOT NULL,
  kode text NOT NULL,
  navn text NOT NULL,
  gyldig_fra date NOT NULL,
  gyldig_til date,
  institusjon boolean NOT NULL DEFAULT false,
  PRIMARY KEY (liste, kode, gyldig_fra)
);

-- API tokens: only the SHA-256 of a token is stored ---------------------

CREATE TABLE kpr.api_token (
  id bigserial PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  role text NOT NULL CHECK (role IN ('municipality', 'staff')),
  kommunenummer text REFERENCES kpr.kommune,
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  CHECK ((role = 'municipality') = (kommunenummer IS NOT NULL))
);

-- Submissions ------------------------------------------------------------

CREATE TABLE kpr.submission (
  id uuid PRIMARY KEY,
  kommunenummer text NOT NULL REFERENCES kpr.kommune,
  aargang integer,
  innsending_id text,
  forrige_id text,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  bytes bigint NOT NULL,
  content_encoding text NOT NULL DEFAULT 'identity',
  spool_name text NOT NULL,
  dry_run boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'received' CHECK (status IN
    ('received', 'processing', 'accepted', 'accepted_with_errors', 'rejected',
     'superseded', 'validated')),
  token_id bigint REFERENCES kpr.api_token,
  received_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  processed_at timestamptz,
  superseded_at timestamptz,
  superseded_by uuid REFERENCES kpr.submission,
  fagsystem text,
  fagsystem_versjon text,
  persons integer,
  registrations bigint,
  persons_loaded integer,
  persons_excluded integer,
  registrations_loaded bigint,
  registrations_excluded bigint,
  n_fatal integer,
  n_error integer,
  n_warning integer,
  n_info integer,
  validate_seconds double precision,
  load_seconds double precision,
  total_seconds double precision,
  feedback_ready boolean NOT NULL DEFAULT false
);
CREATE INDEX submission_kommune_idx ON kpr.submission (kommunenummer, aargang, received_at DESC);
CREATE INDEX submission_status_idx ON kpr.submission (status);
-- idempotency: the same file, or the same Innsending/@id, is the same submission
CREATE UNIQUE INDEX submission_same_file ON kpr.submission (kommunenummer, sha256, dry_run);
CREATE UNIQUE INDEX submission_same_id ON kpr.submission (kommunenummer, innsending_id, dry_run)
  WHERE innsending_id IS NOT NULL;
-- at most one current submission per municipality and årgang
CREATE UNIQUE INDEX submission_one_current ON kpr.submission (kommunenummer, aargang)
  WHERE status IN ('accepted', 'accepted_with_errors');

-- The job queue: claimed with FOR UPDATE SKIP LOCKED; a lease with a
-- heartbeat lets another process take over work held by a dead one.
CREATE TABLE kpr.job (
  submission_id uuid PRIMARY KEY REFERENCES kpr.submission,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
  attempts integer NOT NULL DEFAULT 0,
  worker text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_pending_idx ON kpr.job (created_at) WHERE state <> 'done';

CREATE TABLE kpr.feedback_download (
  id bigserial PRIMARY KEY,
  submission_id uuid NOT NULL REFERENCES kpr.submission,
  format text NOT NULL CHECK (format IN ('csv', 'xml', 'html', 'json')),
  role text NOT NULL,
  token_id bigint REFERENCES kpr.api_token,
  downloaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_download_sub_idx ON kpr.feedback_download (submission_id);

-- The register: pseudonyms only, never a national ID --------------------
-- Rows belong to a submission; the current register is the rows of each
-- municipality's current (accepted) submission, so replacing a submission
-- is one status change in the same transaction as the load.

CREATE TABLE kpr.person (
  submission_id uuid NOT NULL REFERENCES kpr.submission,
  ref text NOT NULL,
  pseudonym bytea NOT NULL CHECK (length(pseudonym) = 16),
  key_version smallint NOT NULL,
  kjonn smallint NOT NULL,
  fodselsaar smallint NOT NULL,
  dodsdato date,
  line integer NOT NULL,
  PRIMARY KEY (submission_id, ref)
);
CREATE INDEX person_pseudonym_idx ON kpr.person (pseudonym);

-- one row per assessment: the 17 scores together, not 17 rows
CREATE TABLE kpr.vurdering (
  submission_id uuid NOT NULL,
  ref text NOT NULL,
  dato date NOT NULL,
  skaar smallint[] NOT NULL CHECK (cardinality(skaar) = 17),
  line integer NOT NULL,
  FOREIGN KEY (submission_id, ref) REFERENCES kpr.person
);
CREATE INDEX vurdering_person_idx ON kpr.vurdering (submission_id, ref);

CREATE TABLE kpr.tjeneste (
  submission_id uuid NOT NULL,
  ref text NOT NULL,
  type smallint NOT NULL,
  soknad date,
  vedtak date,
  start date,
  slutt date,
  avslag boolean NOT NULL DEFAULT false,
  timer_per_uke numeric(5,1),
  timer_med_flere numeric(5,1),
  orgnr text,
  line integer NOT NULL,
  FOREIGN KEY (submission_id, ref) REFERENCES kpr.person
);
CREATE INDEX tjeneste_person_idx ON kpr.tjeneste (submission_id, ref);

CREATE TABLE kpr.diagnose (
  submission_id uuid NOT NULL,
  ref text NOT NULL,
  kodeverk text NOT NULL,
  kode text NOT NULL,
  line integer NOT NULL,
  FOREIGN KEY (submission_id, ref) REFERENCES kpr.person
);
CREATE INDEX diagnose_person_idx ON kpr.diagnose (submission_id, ref);

-- The small yes/no and coded registrations share one table:
-- Heldogn, Legemiddelgjennomgang, Ernaering, IndividuellPlan, Koordinator, Venteliste.
CREATE TABLE kpr.registrering (
  submission_id uuid NOT NULL,
  ref text NOT NULL,
  element text NOT NULL CHECK (element IN ('Heldogn', 'Legemiddelgjennomgang', 'Ernaering',
                                            'IndividuellPlan', 'Koordinator', 'Venteliste')),
  kode smallint,
  dato date,
  line integer NOT NULL,
  FOREIGN KEY (submission_id, ref) REFERENCES kpr.person
);
CREATE INDEX registrering_person_idx ON kpr.registrering (submission_id, ref);

CREATE VIEW kpr.current_submission AS
  SELECT * FROM kpr.submission WHERE status IN ('accepted', 'accepted_with_errors');

CREATE VIEW kpr.current_person AS
  SELECT p.*, s.kommunenummer, s.aargang
  FROM kpr.person p JOIN kpr.current_submission s ON s.id = p.submission_id;

-- Privileges: kprd's role inserts health data and manages intake; it
-- cannot change reference data or drop anything.
GRANT SELECT ON ALL TABLES IN SCHEMA kpr TO kpr_register_reader;
GRANT SELECT ON kpr.fylke, kpr.kommune, kpr.kode, kpr.api_token TO kpr_ingest;
GRANT SELECT, INSERT, UPDATE ON kpr.submission, kpr.job TO kpr_ingest;
GRANT SELECT, INSERT ON kpr.feedback_download TO kpr_ingest;
GRANT USAGE ON SEQUENCE kpr.feedback_download_id_seq TO kpr_ingest;
GRANT SELECT, INSERT, DELETE ON kpr.person, kpr.vurdering, kpr.tjeneste, kpr.diagnose,
  kpr.registrering TO kpr_ingest;
GRANT SELECT ON kpr.current_submission, kpr.current_person TO kpr_ingest;
