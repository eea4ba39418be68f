-- Columns added to masked_traces after its first release: warehouses created before get them here.
-- feedback: the labels the traces carry for judges (gen_ai.evaluation.result events, feedback.<judge>
-- attributes), masked like every other text, so judge agreement never needs the raw spans.
ALTER TABLE masked_traces ADD COLUMN IF NOT EXISTS feedback STRUCT(judge VARCHAR, label VARCHAR)[];
