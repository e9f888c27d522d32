-- Owned by the incremental merge (hub/dedupe/incremental.py): one hash per submission of what the
-- last merge read of it (its rows with their content and acceptance, its time, whether it is
-- superseded, the departures it keeps in force). A submission whose hash is unchanged has the same
-- rows in force with the same content, so the next merge compares only the others row by row.
-- Empty (an older store): the next merge compares every row.
CREATE TABLE IF NOT EXISTS hub_merge_subfp (
    submission_id BIGINT NOT NULL,
    fp            UBIGINT NOT NULL
);
