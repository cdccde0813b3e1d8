-- 0004_loader_owns_child_integrity.sql — the child tables lose their
-- foreign keys to kpr.person. Every child row is written by the loader from
-- the same person record, in the same transaction as the person row, and
-- removed with it (retraction, reprocessing), so the per-row foreign-key
-- trigger only repeated a guarantee the loader already gives — at a cost of
-- about a third of the national load time (measured with `make bench`).
-- The (submission_id, ref) indexes stay for lookups by person.
ALTER TABLE kpr.vurdering DROP CONSTRAINT vurdering_submission_id_ref_fkey;
ALTER TABLE kpr.tjeneste DROP CONSTRAINT tjeneste_submission_id_ref_fkey;
ALTER TABLE kpr.diagnose DROP CONSTRAINT diagnose_submission_id_ref_fkey;
ALTER TABLE kpr.registrering DROP CONSTRAINT registrering_submission_id_ref_fkey;
