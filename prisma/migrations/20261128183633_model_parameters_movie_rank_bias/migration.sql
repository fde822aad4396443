-- AlterTable
ALTER TABLE "model_parameters" ADD COLUMN     "movie_rank_bias" BYTEA;
