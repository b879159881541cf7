-- received_index keeps, for each dialogue object (Parley's own types)
-- received from a peer, its index in that peer's log of the channel, so
-- that a request's history can name the log entry of each state change on
-- both nodes (ApplyReceived writes it; peer.ReceivedIndex reads it). Only
-- dialogue objects: a channel's indicators do not need it, and an import
-- of 100,000 of them pays nothing.

-- +goose Up
CREATE TABLE received_index (
	collection_pk INTEGER NOT NULL,
	id            TEXT NOT NULL,
	version       TEXT NOT NULL,        -- objects.version
	peer          TEXT NOT NULL,
	idx           INTEGER NOT NULL,     -- the entry's index in the peer's log
	PRIMARY KEY (collection_pk, id, version)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE received_index;
