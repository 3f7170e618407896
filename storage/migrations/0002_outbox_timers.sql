-- Delivery and scheduling moved into the database (outbox + timers), plus the indexes the
-- dispatcher, scheduler and agent views query on every tick.

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    destination   TEXT NOT NULL,
    ordering_key  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL DEFAULT '{}',
    dedupe_key    TEXT UNIQUE,
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    status        TEXT NOT NULL DEFAULT 'pending',
    locked_by     TEXT,
    locked_until  TEXT
);
-- The claim query: due rows by time, and "oldest undelivered per ordering key".
CREATE INDEX outbox_due ON outbox(status, available_at);
CREATE INDEX outbox_undelivered_per_key ON outbox(destination, ordering_key, id)
    WHERE status IN ('pending', 'sending');

CREATE TABLE timers (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    ticket_id     INTEGER REFERENCES tickets(id),
    due_at        TEXT NOT NULL,
    payload       TEXT NOT NULL DEFAULT '{}',
    dedupe_key    TEXT UNIQUE,
    status        TEXT NOT NULL DEFAULT 'pending',
    locked_by     TEXT,
    locked_until  TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX timers_due ON timers(status, due_at);
CREATE INDEX timers_ticket ON timers(ticket_id, kind);

-- Agent views and the SLA watcher.
CREATE INDEX tickets_status ON tickets(status, opened_at);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status);
CREATE INDEX tickets_response_due ON tickets(response_due_at) WHERE first_response_at IS NULL;
