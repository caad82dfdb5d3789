-- A tenant's abandoned-call settings (domain/abandonment.py, ComplianceSettings;
-- docs/compliance.md). The regime defaults by region, as a new tenant's does
-- (abandonment.default_regime): uk in the UK and the Crown Dependencies, us in the US and its
-- territories, none elsewhere (neither rule is the law there; the tenant chooses).
-- abandon_target: a fraction of live calls (at most the regulator's 3%).
-- info_message / info_recording: what an abandoned call hears (text for espeak-ng, or a
-- recording's audio id); both NULL: none set. attempts_per_day NULL: no cap.
ALTER TABLE tenants ADD COLUMN regime TEXT NOT NULL DEFAULT 'none'
    CHECK (regime IN ('uk', 'us', 'none'));
ALTER TABLE tenants ADD COLUMN abandon_target DOUBLE PRECISION NOT NULL DEFAULT 0.03;
ALTER TABLE tenants ADD COLUMN info_message TEXT;
ALTER TABLE tenants ADD COLUMN info_recording TEXT;
ALTER TABLE tenants ADD COLUMN opt_out_key TEXT NOT NULL DEFAULT '9';
ALTER TABLE tenants ADD COLUMN attempts_per_day INTEGER;
ALTER TABLE tenants ADD COLUMN false_machine_rate DOUBLE PRECISION NOT NULL DEFAULT 0.083;
UPDATE tenants SET regime = 'uk' WHERE region IN ('GB', 'GG', 'JE', 'IM');
UPDATE tenants SET regime = 'us' WHERE region IN ('US', 'PR', 'GU', 'VI', 'AS', 'MP');
