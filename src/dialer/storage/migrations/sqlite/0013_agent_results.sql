-- Agent campaigns (issue 12). An attempt whose call was handed to an agent keeps what the agent
-- did with it (domain/attempt.py, AgentCall); every column is NULL for the other attempts, so
-- agent_queued_at, never NULL on an agent call, tells the two apart. No foreign key to agents:
-- an agent removed later leaves its results readable (the member's name is kept here).
ALTER TABLE attempts ADD COLUMN agent_queued_at BIGINT;
ALTER TABLE attempts ADD COLUMN agent_id BIGINT;
ALTER TABLE attempts ADD COLUMN agent_member TEXT;
ALTER TABLE attempts ADD COLUMN bridged_at BIGINT;
ALTER TABLE attempts ADD COLUMN talk_ended_at BIGINT;
ALTER TABLE attempts ADD COLUMN wrap_up_ended_at BIGINT;
ALTER TABLE attempts ADD COLUMN disposition INTEGER;
ALTER TABLE attempts ADD COLUMN callback_at BIGINT;
ALTER TABLE attempts ADD COLUMN callback_agent_id BIGINT;

-- The agent a callback asked for (CallerRequestedCallBack with the same agent): the engine
-- offers the next answered call of this number to that agent first. Replaced by each attempt
-- an agent concluded; kept across unanswered retries of the callback.
ALTER TABLE destinations ADD COLUMN callback_agent_id BIGINT;

-- An agent campaign's AgentOptions as JSON ({"wrap_up": seconds | null, "max_wait": seconds,
-- "bridge_on_answer": bool}); NULL: the defaults (an IVR campaign has none).
ALTER TABLE campaigns ADD COLUMN agent_options TEXT;
