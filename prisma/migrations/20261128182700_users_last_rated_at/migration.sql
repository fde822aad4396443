-- AlterTable
ALTER TABLE "users" ADD COLUMN     "last_rated_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "users_last_rated_at_idx" ON "users"("last_rated_at");

-- Backfill: each user's latest stored rating, so a model trained before this migration still finds the users who
-- rated after it (the API's change feed now reads this column instead of ratings.rated_at).
UPDATE "users" u SET "last_rated_at" = r.latest
FROM (SELECT "user_id", max("rated_at") AS latest FROM "ratings" GROUP BY "user_id") r
WHERE r."user_id" = u."id";
