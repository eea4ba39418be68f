-- A file read again replaces its problems: they are those of its current content only.
DELETE FROM quarantine
WHERE source_file = $source_file;
