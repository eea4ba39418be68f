-- One row per problem found in a file (positional parameters: executemany over the problems).
INSERT INTO quarantine (source_file, position, reason, excerpt, seen_at)
VALUES (?, ?, ?, ?, ?);
