-- Owned by the login limiter (hub/serve/accounts.py, LoginLimiter): failed sign-ins counted in the
-- store, so a restart of the server does not wipe them. One row per counter: per account AND
-- address ('pair'), per address ('address', account = ''), per account from addresses that never
-- signed in to it ('account', address = ''). account is the normalised user name (username_key).
-- Never a password. Idempotent.
CREATE TABLE IF NOT EXISTS hub_login_failures (
    kind     VARCHAR NOT NULL,   -- pair | address | account
    account  VARCHAR NOT NULL,
    address  VARCHAR NOT NULL,
    failures INTEGER NOT NULL,
    last_at  DOUBLE  NOT NULL,   -- Unix seconds of the last failure
    PRIMARY KEY (kind, account, address)
);

-- Addresses an account signed in from (exempt from the per-account counter for 30 days).
CREATE TABLE IF NOT EXISTS hub_login_known (
    account  VARCHAR NOT NULL,
    address  VARCHAR NOT NULL,
    last_at  DOUBLE  NOT NULL,
    PRIMARY KEY (account, address)
);
