-- DropIndex
DROP INDEX "model_versions_one_active";

-- AlterTable
ALTER TABLE "model_versions" ADD COLUMN     "artifact" BYTEA,
ADD COLUMN     "family" TEXT NOT NULL DEFAULT 'mf',
ADD COLUMN     "task" TEXT NOT NULL DEFAULT 'rating';

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_one_active_per_task" ON "model_versions"("task") WHERE (active);
