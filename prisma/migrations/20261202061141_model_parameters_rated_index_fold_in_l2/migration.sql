-- AlterTable
ALTER TABLE "model_parameters" ADD COLUMN     "fold_in_l2" DOUBLE PRECISION,
ADD COLUMN     "rated_items" BYTEA,
ADD COLUMN     "rated_offsets" BYTEA;
