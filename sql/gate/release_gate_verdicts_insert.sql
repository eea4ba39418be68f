-- The rows of one gate run (registered relation rows) into release_gate_verdicts.
INSERT INTO release_gate_verdicts BY NAME SELECT * FROM rows;
