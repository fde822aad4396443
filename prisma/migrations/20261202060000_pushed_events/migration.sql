-- Pushed events: every replica LISTENs on "movierec_events" (packages/db/src/events.ts). Triggers send them, so every
-- writer notifies (the API's rateMovie, the CLI's `models activate`, another tool's SQL), in the writer's transaction
-- (delivered on commit, dropped on rollback). Payload: {"v":1,"type":"rating"|"activation",…,"at":<ms since epoch>}.

CREATE OR REPLACE FUNCTION "movierec_notify_rating"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('movierec_events', json_build_object(
    'v', 1, 'type', 'rating', 'user', NEW."external_id",
    'at', floor(extract(epoch FROM clock_timestamp()) * 1000))::text);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "movierec_notify_activation"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('movierec_events', json_build_object(
    'v', 1, 'type', 'activation', 'version', NEW."id",
    'at', floor(extract(epoch FROM clock_timestamp()) * 1000))::text);
  RETURN NULL;
END $$;

-- last_rated_at is set only by a rating through the API (imports leave it alone), so an import sends nothing.
CREATE TRIGGER "users_rated_notify" AFTER INSERT OR UPDATE OF "last_rated_at" ON "users"
  FOR EACH ROW WHEN (NEW."last_rated_at" IS NOT NULL) EXECUTE FUNCTION "movierec_notify_rating"();

CREATE TRIGGER "model_versions_activated_notify" AFTER INSERT OR UPDATE OF "active" ON "model_versions"
  FOR EACH ROW WHEN (NEW."active") EXECUTE FUNCTION "movierec_notify_activation"();
