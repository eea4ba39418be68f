-- The rows of one gate run (registered relation rows) into candidate_responses.
INSERT INTO candidate_responses BY NAME SELECT * FROM rows;
