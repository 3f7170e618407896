-- A reply in a card's thread names the card by (channel, ts): find its ticket by index, not by scanning
-- every open ticket. One card per ticket, so the pair is unique where a card was posted.
CREATE UNIQUE INDEX tickets_card ON tickets(slack_channel, slack_ts) WHERE slack_ts IS NOT NULL;
