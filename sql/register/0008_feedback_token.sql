-- 0008_feedback_token.sql — the feedback served is the committed attempt's.
--
-- Until now every attempt wrote its feedback files as <id>.<ext> before its
-- final transaction. A worker whose lease had run out (stopped, swapped out,
-- cut off from the database) could resume, write its files over those of
-- the worker that had taken the job over and committed, and only then fail
-- its own fenced commit: the feedback served then said what an attempt that
-- never committed had found.
--
-- Now each attempt writes <id>.<token>.<ext> under a random token of its
-- own, and its final transaction stores the token here. Downloads open the
-- files of the stored token only, so what is served is what was committed;
-- files of other tokens are removed by the attempt itself or, after a crash,
-- by the reconciler. NULL: feedback written before this migration, as
-- <id>.<ext>, or none yet.
ALTER TABLE kpr.submission ADD COLUMN feedback_token text
  CHECK (feedback_token ~ '^[0-9a-f]{32}$');
