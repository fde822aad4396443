-- AlterTable: time-aware bias terms of a model version (Koren, KDD 2009), all nullable (older versions have none)
ALTER TABLE "model_parameters" ADD COLUMN     "temporal_layout" JSONB,
ADD COLUMN     "movie_bin_bias" BYTEA,
ADD COLUMN     "user_drift" BYTEA,
ADD COLUMN     "user_mean_day" BYTEA,
ADD COLUMN     "user_last_time" BYTEA,
ADD COLUMN     "user_day_offsets" BYTEA,
ADD COLUMN     "user_days" BYTEA,
ADD COLUMN     "user_day_bias" BYTEA;
