-- Empty the day's partition of judge_scores before it is written again (in the same transaction).
DELETE FROM judge_scores WHERE trace_date = $day;
