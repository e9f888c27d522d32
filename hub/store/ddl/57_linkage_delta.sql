-- Owned by hub/dedupe/linkage/names.py: the comparison keys of every name linkage has seen. A name's
-- keys are a function of the name alone (OpenCC t2s, pypinyin), so they are computed once, ever.
CREATE TABLE IF NOT EXISTS hub_name_keys (
    name   VARCHAR PRIMARY KEY,
    name_s VARCHAR,
    py_key VARCHAR,
    py_set VARCHAR[]
);

-- Owned by hub/dedupe/linkage/incremental.py: each submission's linkage inputs (its rows, findings
-- and file) as the last linkage run saw them, one order-independent hash per submission. A
-- submission whose hash differs (or that is new, or gone) is what the next run links again.
CREATE TABLE IF NOT EXISTS hub_link_subfp (
    submission_id BIGINT PRIMARY KEY,
    fp            UBIGINT NOT NULL
);
