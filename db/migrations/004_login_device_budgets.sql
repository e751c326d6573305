-- Sign-in budgets keyed by device. 002 counted failures per account and per
-- client address, and refused sign-ins once either was spent: five wrong
-- codes from anyone locked a student out, and a hundred from one school NAT
-- address locked the whole school out. Now a budget that refuses belongs to
-- one browser (a hash of its festa_csrf cookie), so nobody can spend anyone
-- else's; addresses are still counted, but never refuse (see
-- handlers/auth.go for the limits and README "Sign-in security" for why).
--
-- Keys (text, as before):
--   "student:20315|dev:<hash>"  one account from one device (strict)
--   "student-dev:<hash>"        one device, any account (strict)
--   "student-ip:203.0.113.7"    one client address (counted only)
-- and the same with "staff" for staff sign-in. Rows with 002's keys are
-- meaningless now and are dropped.
DELETE FROM login_failures;

-- festa_begin_login admits one sign-in attempt against every strict budget
-- in keys (with their limits and windows), counting it as a failure in
-- each before the secret is checked, so parallel guesses cannot slip past a
-- limit together; a success takes the counts back. It is all or nothing:
-- when any budget is spent nothing is counted, and wait says how long until
-- that budget frees (NULL when admitted). Budgets are taken in key order
-- (byte order), so two attempts sharing rows cannot deadlock.
--
-- client_failures is the client address's failure count in its current
-- window, read without locking (the caller routes flooding addresses
-- through a slow lane; it never refuses).
CREATE FUNCTION festa_begin_login(keys text[], limits int[], windows interval[],
    client_key text, client_window interval, at timestamptz,
    OUT wait interval, OUT client_failures int)
LANGUAGE plpgsql AS $$
DECLARE
    b record;
    n int;
BEGIN
    SELECT f.failures INTO client_failures FROM login_failures f
    WHERE f.key = client_key AND f.window_start > at - client_window;
    client_failures := coalesce(client_failures, 0);
    BEGIN
        FOR b IN SELECT u.k, u.lim, u.win FROM unnest(keys, limits, windows) AS u(k, lim, win)
                 ORDER BY u.k COLLATE "C" LOOP
            -- A window that has ended starts again at one; a live one counts
            -- up only while under its limit.
            INSERT INTO login_failures AS f (key, window_start, failures) VALUES (b.k, at, 1)
            ON CONFLICT (key) DO UPDATE SET
                window_start = CASE WHEN f.window_start <= at - b.win THEN excluded.window_start ELSE f.window_start END,
                failures     = CASE WHEN f.window_start <= at - b.win THEN 1 ELSE f.failures + 1 END
            WHERE f.window_start <= at - b.win OR f.failures < b.lim
            RETURNING f.failures INTO n;
            IF NOT FOUND THEN
                SELECT greatest(f.window_start + b.win - at, interval '1 second') INTO wait
                FROM login_failures f WHERE f.key = b.k;
                -- Undo the budgets already counted by this attempt.
                RAISE EXCEPTION USING ERRCODE = 'FL429';
            END IF;
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'FL429' THEN
        wait := coalesce(wait, interval '1 second');
    END;
END;
$$;
