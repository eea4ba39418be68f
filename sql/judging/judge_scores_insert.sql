-- The day's scores (registered relation score_rows, one row per record and judge) into judge_scores.
INSERT INTO judge_scores BY NAME SELECT * FROM score_rows;
