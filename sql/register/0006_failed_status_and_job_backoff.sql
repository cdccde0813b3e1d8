-- 0006_failed_status_and_job_backoff.sql — nothing lost, nothing left behind.
--
-- 1. The status `failed` (SPEC §5): the server could not process a file
--    because of a fault on its side (a full disk, an I/O error, a job past
--    its time limit, repeated internal errors), not the municipality's. It
--    replaces `rejected` for given-up jobs, which municipalities read as
--    "your file is wrong" and which idempotency then returned for ever.
-- 2. Idempotency ignores failed submissions: the same file (or the same
--    Innsending/@id) sent again makes a new submission. When a failed one
--    is later reprocessed beside its resend, the newest received wins, as
--    for any two submissions of a municipality and årgang.
-- 3. Jobs back off between attempts (not_before) instead of using up their
--    attempts within seconds, remember when they were claimed (claimed_at:
--    the heartbeat stops renewing a job past its wall-clock limit) and the
--    kind of their last failure (last_error: a category, never a value from
--    the file).

ALTER TABLE kpr.submission DROP CONSTRAINT submission_status_check;
ALTER TABLE kpr.submission ADD CONSTRAINT submission_status_check CHECK (status IN
  ('received', 'processing', 'accepted', 'accepted_with_errors', 'rejected',
   'superseded', 'validated', 'failed'));

DROP INDEX kpr.submission_same_file;
CREATE UNIQUE INDEX submission_same_file ON kpr.submission (kommunenummer, sha256, dry_run)
  WHERE status <> 'failed';
DROP INDEX kpr.submission_same_id;
CREATE UNIQUE INDEX submission_same_id ON kpr.submission (kommunenummer, innsending_id, dry_run)
  WHERE innsending_id IS NOT NULL AND status <> 'failed';

ALTER TABLE kpr.job
  ADD COLUMN not_before timestamptz,
  ADD COLUMN claimed_at timestamptz,
  ADD COLUMN last_error text CHECK (last_error IN
    ('internal', 'local_io', 'disk_full', 'database', 'time_limit', 'spool_missing'));
