-- Peering: the other parties' nodes, the channels shared with
-- each, and how far each exchange has got.
--
-- peers holds each peer by its name on this node (the name in its log
-- key); its TLS pin and log key are unique, as each is the peer's
-- identity. channels holds one row per channel, its id the collection's
-- id on both nodes: collection_pk is NULL while the channel is only
-- offered (the collection is made when it is accepted). peer_logs holds,
-- per (peer, collection), the size of this node's log the peer last
-- cosigned and the size of the peer's log applied here. wanted_blobs
-- holds the evidence blobs a peer's entries named, until they are fetched.
--
-- objects.origin is the peer a received object version came from (NULL
-- for the node's own): received versions are not entries of this node's
-- log, so verify skips them. No foreign key on it: a check per received
-- row, and peers are never deleted.
--
-- objects_large finds the bytes of an object over 65535 bytes (its log
-- entry is the "parley/object sha256:..." line, tlog.ObjectEntry) by its
-- SHA-256 without a scan. It is partial: only those rows are in it, so an
-- import of small objects never touches it.
--
-- Times are integer microseconds since the Unix epoch; NULL is never.

-- +goose Up
CREATE TABLE peers (
	name         TEXT PRIMARY KEY,
	url          TEXT NOT NULL,
	tls_pin      TEXT NOT NULL UNIQUE,
	log_key      TEXT NOT NULL UNIQUE,
	territory    TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_contact INTEGER,
	alarm        TEXT NOT NULL DEFAULT '',  -- '' or dialogue.AlarmFork, AlarmBadData
	alarm_detail TEXT NOT NULL DEFAULT '',
	alarm_at     INTEGER
) STRICT;

CREATE TABLE channels (
	id            TEXT PRIMARY KEY,
	collection_pk INTEGER UNIQUE REFERENCES collections(pk), -- NULL while offered
	title         TEXT NOT NULL,        -- as proposed
	description   TEXT NOT NULL DEFAULT '',
	peer          TEXT NOT NULL REFERENCES peers(name),
	state         TEXT NOT NULL CHECK (state IN ('proposed', 'offered', 'active')),
	incoming      INTEGER NOT NULL,
	notified      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	accepted_at   INTEGER,
	CHECK ((collection_pk IS NULL) = (state = 'offered'))
) STRICT;

CREATE TABLE peer_logs (
	peer          TEXT NOT NULL REFERENCES peers(name),
	collection_pk INTEGER NOT NULL REFERENCES collections(pk),
	cosigned      INTEGER NOT NULL DEFAULT 0, -- size of this node's log the peer cosigned
	applied       INTEGER NOT NULL DEFAULT 0, -- size of the peer's log applied here
	PRIMARY KEY (peer, collection_pk)
) STRICT, WITHOUT ROWID;

CREATE TABLE wanted_blobs (
	sha256     BLOB NOT NULL,
	peer       TEXT NOT NULL REFERENCES peers(name),
	size       INTEGER NOT NULL,
	wanted_at  INTEGER NOT NULL,
	fetched_at INTEGER,                 -- NULL until fetched
	PRIMARY KEY (sha256, peer)
) STRICT, WITHOUT ROWID;
CREATE INDEX wanted_blobs_peer ON wanted_blobs (peer, wanted_at) WHERE fetched_at IS NULL;

ALTER TABLE objects ADD COLUMN origin TEXT;
CREATE INDEX objects_large ON objects (collection_pk, sha256) WHERE length(raw) > 65535;

-- +goose Down
DROP INDEX objects_large;
ALTER TABLE objects DROP COLUMN origin;
DROP TABLE wanted_blobs;
DROP TABLE peer_logs;
DROP TABLE channels;
DROP TABLE peers;
