-- Core tables: clients, contracts, products, agents, invites, tickets and what hangs off them.
-- Times are UTC ISO-8601 text with microseconds (fixed width, so text order is time order);
-- dates are ISO text; hours are whole minutes (no float drift).

CREATE TABLE clients (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    tax_id      TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    client_id         INTEGER NOT NULL REFERENCES clients(id),
    name              TEXT NOT NULL,
    phone             TEXT NOT NULL DEFAULT '',
    phone_key         TEXT NOT NULL DEFAULT '',
    language          TEXT NOT NULL DEFAULT 'es',
    telegram_user_id  INTEGER UNIQUE,
    created_at        TEXT NOT NULL
);
CREATE INDEX contacts_phone_key ON contacts(phone_key);
CREATE INDEX contacts_client ON contacts(client_id);

CREATE TABLE contracts (
    id                    INTEGER PRIMARY KEY,
    number                TEXT NOT NULL UNIQUE,
    client_id             INTEGER NOT NULL REFERENCES clients(id),
    tier                  TEXT NOT NULL,
    starts_on             TEXT NOT NULL,
    ends_on               TEXT NOT NULL,
    minutes_total         INTEGER NOT NULL CHECK (minutes_total >= 0),
    minutes_used          INTEGER NOT NULL DEFAULT 0,
    onsite_minutes_total  INTEGER NOT NULL DEFAULT 0 CHECK (onsite_minutes_total >= 0),
    onsite_minutes_used   INTEGER NOT NULL DEFAULT 0,
    purchase_order        TEXT,
    special_eol_support   INTEGER NOT NULL DEFAULT 0,
    version               INTEGER NOT NULL DEFAULT 1,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX contracts_client ON contracts(client_id);
CREATE INDEX contracts_ends_on ON contracts(ends_on);

CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    client_id        INTEGER NOT NULL REFERENCES clients(id),
    contract_id      INTEGER REFERENCES contracts(id),
    name             TEXT NOT NULL,
    service_area     TEXT NOT NULL,
    warranty_until   TEXT,
    discontinued     INTEGER NOT NULL DEFAULT 0,
    special_support  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX products_client ON products(client_id);

CREATE TABLE agents (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    slack_user_id  TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE invites (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    client_id     INTEGER NOT NULL REFERENCES clients(id),
    contact_name  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    used_by       INTEGER,
    created_at    TEXT NOT NULL
);

-- Per-prefix, per-year counter behind the human ticket number (PREFIX-YYYY-NNNNNN).
CREATE TABLE ticket_counters (
    prefix  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    client_id          INTEGER NOT NULL REFERENCES clients(id),
    contact_id         INTEGER REFERENCES contacts(id),
    contract_id        INTEGER REFERENCES contracts(id),
    product_id         INTEGER REFERENCES products(id),
    service_area       TEXT NOT NULL,
    severity           INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    status             TEXT NOT NULL,
    escalation_level   INTEGER NOT NULL DEFAULT 1,
    assignee_id        INTEGER REFERENCES agents(id),
    description        TEXT NOT NULL,
    since_at           TEXT,
    since_text         TEXT,
    onsite_details     TEXT,
    telegram_chat_id   INTEGER,
    slack_channel      TEXT,
    slack_ts           TEXT,
    opened_at          TEXT NOT NULL,
    clock_started_at   TEXT,
    response_due_at    TEXT,
    first_response_at  TEXT,
    response_met       INTEGER,
    resolved_at        TEXT,
    closed_at          TEXT,
    solution           TEXT,
    rating             INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_client ON tickets(client_id);

CREATE TABLE contract_hours (
    id           INTEGER PRIMARY KEY,
    contract_id  INTEGER NOT NULL REFERENCES contracts(id),
    ticket_id    INTEGER REFERENCES tickets(id),
    minutes      INTEGER NOT NULL CHECK (minutes > 0),
    kind         TEXT NOT NULL,
    charged      INTEGER NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX contract_hours_contract ON contract_hours(contract_id);

CREATE TABLE sla_pauses (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    reason      TEXT NOT NULL DEFAULT '',
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- At most one open pause per ticket.
CREATE UNIQUE INDEX sla_pauses_one_open ON sla_pauses(ticket_id) WHERE ended_at IS NULL;
CREATE INDEX sla_pauses_ticket ON sla_pauses(ticket_id);

CREATE TABLE escalations (
    id                 INTEGER PRIMARY KEY,
    ticket_id          INTEGER NOT NULL REFERENCES tickets(id),
    from_level         INTEGER NOT NULL,
    to_level           INTEGER NOT NULL,
    requested_by_kind  TEXT NOT NULL,
    requested_by_id    TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    new_severity       INTEGER CHECK (new_severity IS NULL OR new_severity BETWEEN 1 AND 4),
    status             TEXT NOT NULL,
    requested_at       TEXT NOT NULL,
    decided_by         INTEGER REFERENCES agents(id),
    decided_at         TEXT,
    decision_reason    TEXT
);
CREATE INDEX escalations_ticket ON escalations(ticket_id);

CREATE TABLE attachments (
    id                INTEGER PRIMARY KEY,
    ticket_id         INTEGER NOT NULL REFERENCES tickets(id),
    kind              TEXT NOT NULL,
    telegram_file_id  TEXT NOT NULL,
    file_name         TEXT,
    size              INTEGER,
    mime              TEXT,
    slack_file_id     TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments(ticket_id);

-- Only Fernet tokens live here; the plaintext never reaches the database.
CREATE TABLE credentials (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    kind        TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    ciphertext  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX credentials_ticket ON credentials(ticket_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER REFERENCES tickets(id),
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_ticket ON audit_log(ticket_id, id);

-- The audit log is append-only: history that can be rewritten proves nothing.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE drafts (
    chat_id     INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    language    TEXT NOT NULL DEFAULT 'es',
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX drafts_updated_at ON drafts(updated_at);

CREATE TABLE processed_updates (
    source  TEXT NOT NULL,
    key     TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE INDEX processed_updates_at ON processed_updates(at);
