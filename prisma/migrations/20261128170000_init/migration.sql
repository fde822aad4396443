-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "external_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "movies" (
    "id" SERIAL NOT NULL,
    "external_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "year" SMALLINT,
    "genres" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "movies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ratings" (
    "user_id" INTEGER NOT NULL,
    "movie_id" INTEGER NOT NULL,
    "rating" REAL NOT NULL,
    "rated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ratings_pkey" PRIMARY KEY ("user_id","movie_id")
);

-- CreateTable
CREATE TABLE "model_versions" (
    "id" SERIAL NOT NULL,
    "engine" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "dataset_fingerprint" TEXT NOT NULL,
    "factors" INTEGER NOT NULL,
    "num_users" INTEGER NOT NULL,
    "num_movies" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "active" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_parameters" (
    "model_version_id" INTEGER NOT NULL,
    "global_mean" DOUBLE PRECISION NOT NULL,
    "user_bias" BYTEA NOT NULL,
    "movie_bias" BYTEA NOT NULL,
    "user_factors" BYTEA NOT NULL,
    "movie_factors" BYTEA NOT NULL,
    "user_ids" TEXT[],
    "movie_ids" TEXT[],

    CONSTRAINT "model_parameters_pkey" PRIMARY KEY ("model_version_id")
);

-- CreateTable
CREATE TABLE "training_runs" (
    "id" SERIAL NOT NULL,
    "model_version_id" INTEGER,
    "engine" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "dataset_fingerprint" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "epochs" JSONB NOT NULL DEFAULT '[]',
    "summary" JSONB NOT NULL DEFAULT '{}',
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "training_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_external_id_key" ON "users"("external_id");

-- CreateIndex
CREATE UNIQUE INDEX "movies_external_id_key" ON "movies"("external_id");

-- CreateIndex
CREATE INDEX "movies_title_idx" ON "movies"("title");

-- CreateIndex
CREATE INDEX "movies_genres_idx" ON "movies" USING GIN ("genres");

-- CreateIndex
CREATE INDEX "ratings_movie_id_rating_idx" ON "ratings"("movie_id", "rating");

-- CreateIndex
CREATE INDEX "model_versions_created_at_idx" ON "model_versions"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "model_versions_one_active" ON "model_versions"("active") WHERE (active);

-- CreateIndex
CREATE UNIQUE INDEX "training_runs_model_version_id_key" ON "training_runs"("model_version_id");

-- AddForeignKey
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_movie_id_fkey" FOREIGN KEY ("movie_id") REFERENCES "movies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_parameters" ADD CONSTRAINT "model_parameters_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_runs" ADD CONSTRAINT "training_runs_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

