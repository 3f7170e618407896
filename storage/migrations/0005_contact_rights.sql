-- Who may act on a ticket (P-ESC-2, P-CLOSE-2): the contact who reported it, or a contact the company named to
-- act on all its tickets. A deactivated contact is unlinked from Telegram and never linked again by phone.
-- forgotten_at: the person's data was erased on request (LFPDPPP); the row stays so tickets keep their contact.
ALTER TABLE contacts ADD COLUMN acts_for_company INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN forgotten_at TEXT;
