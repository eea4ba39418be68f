-- The rows of one gate run (registered relation rows) into release_gate_strata.
INSERT INTO release_gate_strata BY NAME SELECT * FROM rows;
