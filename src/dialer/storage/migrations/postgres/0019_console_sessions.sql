-- The web console's browser sessions (domain/console_session.py, docs/console.md). The cookie
-- holds a random token; only its SHA-256 is kept here, as API keys' are. credential_hash is the
-- hash of the API key or agent token the session was opened with: each request checks it still
-- names a live key or token, so rotating the key or revoking the token ends the session.
-- Times are UTC epoch microseconds, as elsewhere.
CREATE TABLE console_sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('manager', 'agent')),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    agent_id BIGINT REFERENCES agents (id) ON DELETE CASCADE,
    credential_hash TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    CHECK ((kind = 'agent') = (agent_id IS NOT NULL))
);
-- The clean-up at each log-in deletes expired and idle sessions.
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
