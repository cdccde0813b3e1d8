-- 0009_counts_toward_aargang.sql — which submissions count toward an årgang,
-- and which municipalities are expected to report for it, said once in SQL.
--
-- The progress API, the reminder CSV and the dashboard (SPEC §7) count a
-- submission toward årgang Y when it is not a dry run and is of that årgang
-- or, when its årgang could not be read from the file, was received in the
-- following year (Oslo time), the intake season of that årgang. Until now
-- the predicate was a C macro pasted into each query; a report or a check
-- run in psql had to copy it again. A municipality is expected when it is
-- valid on 31 December of the årgang.
--
-- Both are plain SQL functions (no SET clause, not STRICT) so the planner
-- inlines them into the queries that call them: no change of plan or speed.

CREATE FUNCTION kpr.counts_toward_aargang(dry_run boolean, aargang integer,
                                          received_at timestamptz, of_aargang integer)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NOT dry_run AND (aargang = of_aargang OR (aargang IS NULL AND
         extract(year FROM received_at AT TIME ZONE 'Europe/Oslo') = of_aargang + 1));
$$;
COMMENT ON FUNCTION kpr.counts_toward_aargang(boolean, integer, timestamptz, integer) IS
  'true when a submission (dry_run, aargang, received_at) counts toward årgang of_aargang';

CREATE FUNCTION kpr.kommune_expected(gyldig_fra date, gyldig_til date, aargang integer)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT gyldig_fra <= make_date(aargang, 12, 31)
         AND (gyldig_til IS NULL OR gyldig_til >= make_date(aargang, 12, 31));
$$;
COMMENT ON FUNCTION kpr.kommune_expected(date, date, integer) IS
  'true when a municipality valid from gyldig_fra to gyldig_til reports for årgang aargang';

REVOKE ALL ON FUNCTION kpr.counts_toward_aargang(boolean, integer, timestamptz, integer),
              kpr.kommune_expected(date, date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kpr.counts_toward_aargang(boolean, integer, timestamptz, integer),
                          kpr.kommune_expected(date, date, integer)
  TO kpr_ingest, kpr_register_reader;
