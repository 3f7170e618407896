-- E-mail intake (P-IN-6): the policy's own channel, on the same desk.
-- A contact's address, matched without regard to case; a bounce marks it failing until it is set again.
ALTER TABLE contacts ADD COLUMN email TEXT;
ALTER TABLE contacts ADD COLUMN email_failing_since TEXT;
CREATE INDEX contacts_email ON contacts(lower(email)) WHERE email IS NOT NULL;

-- A ticket that talks by e-mail: where replies go, the subject and Message-IDs they thread under, and whether
-- its severity still waits for the client's answer ("severidad por confirmar").
CREATE TABLE mail_tickets (
    ticket_id         INTEGER PRIMARY KEY REFERENCES tickets(id),
    address           TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    root_message_id   TEXT NOT NULL,
    last_message_id   TEXT NOT NULL,
    severity_pending  INTEGER NOT NULL DEFAULT 0,
    opened_by_mail    INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL
);
CREATE INDEX mail_tickets_address ON mail_tickets(lower(address), created_at);

-- Every Message-ID of a ticket's conversation, both ways: a reply to any of them finds its ticket.
CREATE TABLE mail_messages (
    message_id  TEXT PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    at          TEXT NOT NULL
);
CREATE INDEX mail_messages_ticket ON mail_messages(ticket_id);

-- Files that arrived by e-mail, kept until they are in the card's thread (attachments name them "mail:<id>").
CREATE TABLE mail_files (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    content     BLOB,
    created_at  TEXT NOT NULL
);

-- "Correo sin cliente": mail nobody could be matched to (or held back), until the desk attaches it to a company.
CREATE TABLE mail_unmatched (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT NOT NULL UNIQUE,
    address       TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    files         TEXT NOT NULL DEFAULT '[]',
    reason        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    handled_at    TEXT,
    ticket_id     INTEGER REFERENCES tickets(id)
);
CREATE INDEX mail_unmatched_open ON mail_unmatched(received_at) WHERE handled_at IS NULL;
