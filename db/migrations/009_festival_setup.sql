-- Festival setup by the council (handlers/admin_setup.go): the festival's
-- days, and seats a hall's grid reserves for guests.

-- The days of the festival, shown to students; a festival without days yet
-- (the demo's, or one just created) leaves them empty.
ALTER TABLE events ADD COLUMN starts_on date;
ALTER TABLE events ADD COLUMN ends_on date;
ALTER TABLE events ADD CONSTRAINT events_days CHECK ((starts_on IS NULL) = (ends_on IS NULL) AND ends_on >= starts_on);

-- A reserved seat (an r in the grid) is a real seat that every new
-- performance of the hall starts with held back for the council: its
-- performance seat is blocked, as the ticket desk's "hold back" leaves it
-- (007_ticket_desk.sql), so the desk can give it to a guest or release it.
-- The sound desk (kind blocked) is no seat and cannot be reserved.
ALTER TABLE seats ADD COLUMN reserved boolean NOT NULL DEFAULT false;
ALTER TABLE seats ADD CONSTRAINT seats_reserved_is_a_seat CHECK (NOT (reserved AND kind = 'blocked'));
