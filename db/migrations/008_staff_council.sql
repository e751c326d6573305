-- Staff accounts managed from the console and `festa staff add`
-- (db/staff.go). The one rule that must never break: some enabled council
-- account always remains, or nobody could manage the festival any more.
-- It is a trigger, not only a check in Go, so every path that changes the
-- staff table (the console, the command, a hand-typed UPDATE) obeys it.
--
-- festa_staff_keep_council runs before an UPDATE or DELETE of a staff row
-- that takes an enabled council account away (disabled, demoted or
-- deleted). It takes a transaction-level advisory lock first, so two
-- council members disabling each other at the same moment are decided one
-- after the other: under READ COMMITTED the count after the lock sees the
-- other's committed change. Refusal is SQLSTATE FS001 ("last_council"),
-- which db.ErrLastCouncil stands for; the statement changes nothing.
CREATE FUNCTION festa_staff_keep_council()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role <> 'council' OR NOT OLD.enabled THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.role = 'council' AND NEW.enabled THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('festa_staff_keep_council'));
    IF NOT EXISTS (SELECT 1 FROM staff WHERE id <> OLD.id AND role = 'council' AND enabled) THEN
        RAISE EXCEPTION 'the last enabled council account cannot be disabled or demoted'
            USING ERRCODE = 'FS001';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE TRIGGER staff_keep_council BEFORE UPDATE OR DELETE ON staff
    FOR EACH ROW EXECUTE FUNCTION festa_staff_keep_council();
