-- 0007_token_notify.sql — kprd learns of every token change at once.
--
-- kprd keeps an in-memory copy of the active tokens (server/src/auth.c).
-- Until now it reloaded the copy every 2 s, so a token issued a moment ago
-- was refused (401) and a revoked one accepted for up to 2 s. Every change to
-- kpr.api_token (kprctl token issue/revoke, or SQL by hand) now sends a
-- notification on the channel kpr_api_token when its transaction commits;
-- each kprd LISTENs there and reloads at once. The payload is empty: a token
-- (even its hash) never travels in a notification, and PostgreSQL folds
-- identical notifications of one transaction into one.
--
-- (0006 is reserved for another change. `kprctl db migrate` applies every
-- pending number in order, so a 0006 added after this one still runs.)

CREATE FUNCTION kpr.api_token_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify('kpr_api_token', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER api_token_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kpr.api_token
  FOR EACH STATEMENT EXECUTE FUNCTION kpr.api_token_notify();
