-- Engines LISTEN on 'dialer_work': a row added to the ready queue (new destinations, retries,
-- postponed calls) notifies them at commit. PostgreSQL folds the notifications of one
-- transaction into one, and a statement-level trigger costs one call per statement.
CREATE FUNCTION dialer_work_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dialer_work', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER dial_queue_notify AFTER INSERT ON dial_queue
    FOR EACH STATEMENT EXECUTE FUNCTION dialer_work_notify();
