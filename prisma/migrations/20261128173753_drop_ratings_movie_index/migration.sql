-- DropIndex
DROP INDEX "ratings_movie_id_rating_idx";
