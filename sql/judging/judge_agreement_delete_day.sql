-- Empty the day's partition of judge_agreement before it is written again (in the same transaction).
DELETE FROM judge_agreement WHERE trace_date = $day;
