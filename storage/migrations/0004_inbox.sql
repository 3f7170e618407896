-- The durable inbox: every Telegram update and Slack event or interaction is committed here before the
-- platform is told it was received, then handled by one service entry in one transaction that marks it
-- done. (source, key) recognises a redelivery; ordering_key keeps one chat's (or one card's) events in order.
CREATE TABLE inbox (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    key           TEXT NOT NULL,
    ordering_key  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    received_at   TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_by     TEXT,
    locked_until  TEXT,
    finished_at   TEXT,
    error         TEXT,
    UNIQUE (source, key)
);
CREATE INDEX inbox_open ON inbox(status, available_at) WHERE status IN ('pending', 'working');
CREATE INDEX inbox_open_per_key ON inbox(ordering_key, id) WHERE status IN ('pending', 'working');
CREATE INDEX inbox_finished ON inbox(finished_at) WHERE finished_at IS NOT NULL;

-- Delivery paced per platform limit: pace_key names the limit a row counts against (a Telegram chat, a
-- Slack channel's posts, a Slack method tier). attempts now counts real failures only (a 429 is a wait);
-- claims counts how often a row was taken, so a sender knows an earlier try may have reached the platform.
ALTER TABLE outbox ADD COLUMN pace_key TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sent_at TEXT;
CREATE INDEX outbox_dead ON outbox(id) WHERE status = 'dead';

-- A client who blocked the bot: nothing is claimed as sent to them until they unblock it.
ALTER TABLE contacts ADD COLUMN unreachable_since TEXT;

-- A client's (and a contact's) open tickets by recency, without reading every ticket of the company.
CREATE INDEX tickets_client_status ON tickets(client_id, status, opened_at);
CREATE INDEX tickets_contact_status ON tickets(contact_id, status);
-- A thread reply whose card is not recorded yet waits only while some card of that channel is unrecorded.
CREATE INDEX tickets_card_unrecorded ON tickets(slack_channel) WHERE slack_ts IS NULL;
