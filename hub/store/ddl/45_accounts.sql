-- Owned by account administration (hub/serve/accounts.py): who added, disabled, enabled, reset or
-- revoked the tokens of which account, and when. Never a password or a hash. Idempotent.
CREATE SEQUENCE IF NOT EXISTS hub_account_event_seq START 1;

CREATE TABLE IF NOT EXISTS hub_account_events (
    event_id  BIGINT PRIMARY KEY,
    event_at  TIMESTAMP NOT NULL,
    actor     VARCHAR NOT NULL,      -- the steward's user name, or 命令行:<system user>
    action    VARCHAR NOT NULL,      -- add | disable | enable | reset | revoke-tokens
    username  VARCHAR NOT NULL,
    detail    VARCHAR
);
