-- The phone the tenant assigned an agent (docs/agents-desk.md, "The agent's phone"): an
-- E.164 number, a SIP URI or a sim: phone; NULL when the tenant assigned none. An agent's
-- log-in may only make the dialer call this phone (a number through the trunk never
-- anything else), so a stolen agent token cannot have it call a premium-rate number.
ALTER TABLE agents ADD COLUMN phone TEXT;
