-- The policy as read in POLICY.md "Readings".
-- R-POOLS (P-POL-6): in-office advice and on-site advice are two pools, each with the tier's included hours.
-- Until now one pool (onsite_*) held both: each pool starts with what that pool had, and what each has used
-- is read back from the hours ledger (charged rows of its kind), never more than the pool holds.
ALTER TABLE contracts ADD COLUMN office_minutes_total INTEGER NOT NULL DEFAULT 0 CHECK (office_minutes_total >= 0);
ALTER TABLE contracts ADD COLUMN office_minutes_used INTEGER NOT NULL DEFAULT 0;
UPDATE contracts SET office_minutes_total = onsite_minutes_total;
UPDATE contracts SET office_minutes_used = (
    SELECT CASE WHEN COALESCE(SUM(h.minutes), 0) > contracts.office_minutes_total
                THEN contracts.office_minutes_total ELSE COALESCE(SUM(h.minutes), 0) END
    FROM contract_hours h
    WHERE h.contract_id = contracts.id AND h.kind = 'in_office' AND h.charged <> 0
);
UPDATE contracts SET onsite_minutes_used = (
    SELECT CASE WHEN COALESCE(SUM(h.minutes), 0) > contracts.onsite_minutes_total
                THEN contracts.onsite_minutes_total ELSE COALESCE(SUM(h.minutes), 0) END
    FROM contract_hours h
    WHERE h.contract_id = contracts.id AND h.kind = 'on_site' AND h.charged <> 0
);

-- R-WARRANTY (P-POL-4): the intake's warranty decision is a mark on the ticket; the consultant confirms it
-- when resolving.
ALTER TABLE tickets ADD COLUMN warranty INTEGER NOT NULL DEFAULT 0;

-- R-EVENT: a per-event contract covers one ticket, and its purchase order is never used again. The ticket that
-- takes the event carries the order (its normalised key): a company cannot use one order twice, and a
-- per-event contract cannot cover two tickets, even when two reports are confirmed at the same moment.
ALTER TABLE tickets ADD COLUMN purchase_order TEXT;
CREATE UNIQUE INDEX tickets_purchase_order ON tickets(client_id, purchase_order) WHERE purchase_order IS NOT NULL;
CREATE UNIQUE INDEX tickets_contract_event ON tickets(contract_id) WHERE purchase_order IS NOT NULL;
