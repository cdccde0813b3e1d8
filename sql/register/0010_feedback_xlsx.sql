-- 0010_feedback_xlsx.sql — the feedback workbook (format=xlsx, SPEC §6) is a
-- fifth feedback format: its downloads are counted like the others'.
--
-- kpr.feedback_download.format was checked against the four formats of
-- 0001; a municipality's download of the workbook could not be counted, and
-- a download that cannot be counted is not served (503).
ALTER TABLE kpr.feedback_download
  DROP CONSTRAINT feedback_download_format_check,
  ADD CONSTRAINT feedback_download_format_check
    CHECK (format IN ('csv', 'xlsx', 'xml', 'html', 'json'));
