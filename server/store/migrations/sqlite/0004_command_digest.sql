-- A digest of each applied command (its type and fields, without the ref), so that
-- reusing a ref for a different command is answered `conflict` instead of the first
-- command's result. Rows from before have '' (unknown): they are answered as before.
ALTER TABLE commands ADD COLUMN digest TEXT NOT NULL DEFAULT '';
