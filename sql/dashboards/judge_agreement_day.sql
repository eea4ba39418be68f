-- $day's judge/human agreement per judge (written by the judging domain's judge_agreement asset).
SELECT * FROM judge_agreement WHERE trace_date = $day ORDER BY judge;
