-- A day whose spans retention dropped (positional parameters: executemany over the days).
INSERT OR REPLACE INTO expired_days (trace_date, expired_at)
VALUES (?, ?);
