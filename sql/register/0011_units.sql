-- 0011_units.sql — the unit (SPEC §2 enhet) of every person and service,
-- as written, so that statistics per unit (bydel, allocation office,
-- service site) become possible.
--
-- enhet: Person/@enhet, or for a service its own Tjeneste/@enhet, else its
-- person's; NULL when the file gives none. enhet_ukjent: the file gave one
-- that R110 refused (blank, over 64 characters, control characters, or a
-- national-ID candidate): the element is loaded and its unit recorded as
-- unknown, never stored (SPEC §3: no column outside the vault holds a
-- national-ID candidate; kprctl verify checks every text column).
ALTER TABLE kpr.person
  ADD COLUMN enhet text CHECK (char_length(enhet) BETWEEN 1 AND 64),
  ADD COLUMN enhet_ukjent boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT person_enhet_known_or_unknown CHECK (NOT (enhet IS NOT NULL AND enhet_ukjent));
ALTER TABLE kpr.tjeneste
  ADD COLUMN enhet text CHECK (char_length(enhet) BETWEEN 1 AND 64),
  ADD COLUMN enhet_ukjent boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT tjeneste_enhet_known_or_unknown CHECK (NOT (enhet IS NOT NULL AND enhet_ukjent));
