-- Owned by the linkage stage (hub/dedupe/linkage): the level each comparison of a scored pair reached
-- (Splink's gamma: -1 one side empty, else hub_link_levels.gamma; evaluated on the kept pairs in the store
-- from the model's comparison levels, whichever engine scored them), so `hub review`, the
-- review page and `hub explain` name the level itself instead of inferring it from the weight (two
-- levels can carry the same weight: a real level of weight 0 was named 不计分). NULL for pairs scored
-- before this column. Idempotent.
ALTER TABLE hub_link_pairs ADD COLUMN IF NOT EXISTS levels JSON;  -- comparison -> gamma
