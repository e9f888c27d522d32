-- Owned by the web application (hub/serve): accounts, sessions, API tokens, the access log and the
-- published history of mapping specs. Idempotent.
CREATE SEQUENCE IF NOT EXISTS hub_access_seq START 1;

-- role: clerk (township_code set) | department (department set) | steward.
CREATE TABLE IF NOT EXISTS hub_users (
    username      VARCHAR PRIMARY KEY,
    role          VARCHAR NOT NULL,
    township_code VARCHAR,            -- 9 digits, clerks only
    department    VARCHAR,            -- e.g. 民政, departments only
    password_hash VARCHAR NOT NULL,   -- argon2id
    created_at    TIMESTAMP NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false
);

-- Browser sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE IF NOT EXISTS hub_sessions (
    session_hash VARCHAR PRIMARY KEY,
    username     VARCHAR NOT NULL,
    csrf_token   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);

-- Per-department API tokens for machine pulls. Only the SHA-256 of the token is stored.
CREATE TABLE IF NOT EXISTS hub_api_tokens (
    token_hash  VARCHAR PRIMARY KEY,
    token_hint  VARCHAR NOT NULL,     -- first characters, to tell tokens apart
    username    VARCHAR NOT NULL,
    department  VARCHAR NOT NULL,
    label       VARCHAR,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

-- Every download and API pull: who, department, report, township, period, purpose, records, hash.
CREATE TABLE IF NOT EXISTS hub_access_log (
    access_id     BIGINT PRIMARY KEY,
    accessed_at   TIMESTAMP NOT NULL,
    username      VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,
    department    VARCHAR,
    channel       VARCHAR NOT NULL,   -- web | api
    report        VARCHAR NOT NULL,
    township_code VARCHAR,            -- NULL for county-wide reports
    ref_date      DATE NOT NULL,      -- the report date that fixes the period
    purpose       VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,   -- xlsx | csv | json
    records       INTEGER,
    sha256        VARCHAR NOT NULL
);

-- Published versions of mapping specs: who, when, what changed (the text is kept whole).
CREATE TABLE IF NOT EXISTS hub_spec_versions (
    report_id    VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    spec_text    VARCHAR NOT NULL,
    summary      VARCHAR,             -- Chinese: what the change did to the data at publication
    PRIMARY KEY (report_id, version)
);
