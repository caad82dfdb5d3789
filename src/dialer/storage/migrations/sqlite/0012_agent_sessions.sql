-- Agents' sessions (log-in to log-out), every change of their state, and agents' desk tokens
-- (domain/agent_session.py, docs/agents.md). Times are UTC epoch microseconds, as elsewhere.
--
-- An agent's rows go with the agent (ON DELETE CASCADE): a deleted member has no name left to
-- report them under, and its tokens must stop working.
CREATE TABLE agent_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('offline', 'ready', 'reserved', 'talking', 'wrap-up', 'paused')),
    since BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    reason TEXT,
    pending TEXT CHECK (pending IN ('pause', 'logout')),
    pending_reason TEXT,
    -- The call in hand or the last one (domain Customer as a JSON object).
    customer TEXT,
    disposition_stage INTEGER,
    callback_at BIGINT,
    same_agent INTEGER NOT NULL DEFAULT 0,
    wrap_up_until BIGINT,
    release_requested INTEGER NOT NULL DEFAULT 0,
    ready_since BIGINT,
    -- The engine holding the agent's phone leg, until lease_until (renewed while it lives).
    worker TEXT,
    lease_until BIGINT,
    version INTEGER NOT NULL DEFAULT 0
);
-- At most one open session per agent: two log-ins at once cannot both open one.
CREATE UNIQUE INDEX agent_sessions_open ON agent_sessions (agent_id) WHERE state <> 'offline';
-- reserve_agent: a worker's ready agents, longest ready first (and ready_agents' count).
CREATE INDEX agent_sessions_ready ON agent_sessions (worker, ready_since, id)
    WHERE state = 'ready';
-- worker_sessions and renew_sessions; adopt_sessions finds unheld or expired ones by lease.
CREATE INDEX agent_sessions_held ON agent_sessions (worker) WHERE state <> 'offline';
CREATE INDEX agent_sessions_lease ON agent_sessions (lease_until) WHERE state <> 'offline';
-- tenant_sessions: each agent's last session.
CREATE INDEX agent_sessions_agent ON agent_sessions (tenant_id, agent_id, id);

CREATE TABLE agent_state_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES agent_sessions (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    agent_id INTEGER NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('offline', 'ready', 'reserved', 'talking', 'wrap-up', 'paused')),
    at BIGINT NOT NULL,
    reason TEXT,
    -- The call of the change; no foreign keys, so the history outlives a deleted campaign.
    campaign_id INTEGER,
    destination_id INTEGER,
    attempt_number INTEGER
);
-- One agent's changes in order (the desk's event stream resumes after an id).
CREATE INDEX agent_state_changes_agent ON agent_state_changes (tenant_id, agent_id, id);
-- A tenant's changes within a day (the time-per-state report).
CREATE INDEX agent_state_changes_at ON agent_state_changes (tenant_id, at);

CREATE TABLE agent_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX agent_tokens_agent ON agent_tokens (agent_id);
