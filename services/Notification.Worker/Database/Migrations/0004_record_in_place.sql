-- Recording how a claimed message ended touches no indexed column any more (processed_at is now the time
-- of the claim, which the purge counts its retention from), so the record can be a heap-only update: the
-- new row version goes on the same page and no index gets a new entry. That needs free room on the page:
-- each row is written twice (its claim, then its record), so pages are left 30% free for the second.
-- Only pages written from now on are filled to this; existing ones are left as they are.
ALTER TABLE notification.processed_messages SET (fillfactor = 70);
