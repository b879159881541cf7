-- Alarms get an id and a history: each alarm raised about a peer is a row,
-- open until an administrator clears it (`parley alarm clear`), which
-- records who cleared it, when and why. A peer has at most one open alarm
-- (the first one raised counts, as before); its record shows that one.
-- The alarm columns of peers move here.

-- +goose Up
CREATE TABLE alarms (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	peer       TEXT NOT NULL REFERENCES peers(name),
	alarm      TEXT NOT NULL,           -- dialogue.AlarmFork, AlarmBadData
	detail     TEXT NOT NULL DEFAULT '',
	raised_at  INTEGER NOT NULL,
	cleared_at INTEGER,                 -- NULL while open
	cleared_by TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX alarms_open ON alarms (peer) WHERE cleared_at IS NULL;
INSERT INTO alarms (peer, alarm, detail, raised_at)
	SELECT name, alarm, alarm_detail, coalesce(alarm_at, created_at) FROM peers WHERE alarm != '';
ALTER TABLE peers DROP COLUMN alarm_at;
ALTER TABLE peers DROP COLUMN alarm_detail;
ALTER TABLE peers DROP COLUMN alarm;

-- +goose Down
ALTER TABLE peers ADD COLUMN alarm TEXT NOT NULL DEFAULT '';
ALTER TABLE peers ADD COLUMN alarm_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE peers ADD COLUMN alarm_at INTEGER;
UPDATE peers SET (alarm, alarm_detail, alarm_at) =
	(SELECT alarm, detail, raised_at FROM alarms WHERE alarms.peer = peers.name AND cleared_at IS NULL)
	WHERE name IN (SELECT peer FROM alarms WHERE cleared_at IS NULL);
DROP TABLE alarms;
