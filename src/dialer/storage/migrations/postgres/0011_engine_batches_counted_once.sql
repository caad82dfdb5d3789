-- Nothing to change on PostgreSQL: its counting triggers run once per statement, and the
-- engine writes each batch in one statement (SQLite's 0011 pauses its row trigger instead).
SELECT 1;
