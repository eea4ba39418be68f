-- The day's verdicts, compared with the human labels by judge_agreement.
SELECT trace_id, judge, verdict FROM judge_scores WHERE trace_date = $day;
