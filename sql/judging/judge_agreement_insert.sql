-- The day's agreement rows (registered relation agreement_rows) into judge_agreement.
INSERT INTO judge_agreement BY NAME
SELECT CAST($day AS DATE) AS trace_date, *, now()::TIMESTAMP AS computed_at
FROM agreement_rows;
