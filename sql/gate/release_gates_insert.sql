-- The rows of one gate run (registered relation rows) into release_gates.
INSERT INTO release_gates BY NAME SELECT * FROM rows;
