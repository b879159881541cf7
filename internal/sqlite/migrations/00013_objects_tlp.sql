-- objects.tlp keeps, for each version added from now on, what its JSON
-- says of TLP as the gate reads it (stix.ReadMarking): "1:" and the level
-- ("1:" alone for an unmarked version). A page of objects is then decided
-- without reading each one's JSON. NULL means not kept: versions added
-- before this migration, and versions naming RED recipients (rare), whose
-- JSON the gate reads as before. The "1:" is the reader's edition: a
-- reader that came to read other answers would take a new prefix, and the
-- rows of the old one would be read from their JSON again.

-- +goose Up
ALTER TABLE objects ADD COLUMN tlp TEXT;

-- +goose Down
ALTER TABLE objects DROP COLUMN tlp;
