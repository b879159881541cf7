-- Per-channel deadlines of assistance requests: the
-- times this node gives the other party to acknowledge and to answer a
-- request it files on the channel, normally and when the request hits an
-- agreed off-limits sector, in seconds. NULL: the default
-- (dialogue.DefaultDeadlines, dialogue.OffLimitsDeadlines). They are
-- written into each request (ack_by, answer_by) when it is filed, so the
-- peer sees the same deadlines on every request.

-- +goose Up
ALTER TABLE channels ADD COLUMN ack_seconds INTEGER CHECK (ack_seconds > 0);
ALTER TABLE channels ADD COLUMN answer_seconds INTEGER CHECK (answer_seconds > 0);
ALTER TABLE channels ADD COLUMN off_limits_ack_seconds INTEGER CHECK (off_limits_ack_seconds > 0);
ALTER TABLE channels ADD COLUMN off_limits_answer_seconds INTEGER CHECK (off_limits_answer_seconds > 0);

-- +goose Down
ALTER TABLE channels DROP COLUMN off_limits_answer_seconds;
ALTER TABLE channels DROP COLUMN off_limits_ack_seconds;
ALTER TABLE channels DROP COLUMN answer_seconds;
ALTER TABLE channels DROP COLUMN ack_seconds;
