"""Contract (property-based, the quick profile; ``bench/fuzz.py`` runs the long one): whatever bytes land, the
readers, the normaliser and the Arrow conversion never raise; an export as sent, in every on-disk form, is read
whole with no quarantine row; a mutated one loses spans only with a quarantine row saying so (unless the
mutation emptied a container the way a sender may); every span read becomes a row or a quarantine row."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eval_pipeline_tests.support import otlp_fuzz as fz

# The quick profile: a few dozen cases per property, seconds in all (bench/fuzz.py: 10,000 and more).
QUICK = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(fz.exports, st.sampled_from(fz.FORMS), st.booleans())
def test_readers_export_as_sent_is_read_whole_in_every_form(export: list, form: str, gz: bool) -> None:
    fz.check_sent(export, form, gz)


@QUICK
@given(fz.exports, st.sampled_from(fz.JSON_FORMS), fz.tree_mutations)
def test_readers_mutated_json_tree_loses_spans_only_with_a_quarantine_row(export: list, form: str,
                                                                         m: fz.TreeMutation) -> None:
    fz.check_json_mutation(export, form, m)


@QUICK
@given(fz.exports, st.sampled_from(fz.FORMS), st.booleans(), fz.byte_mutations)
def test_readers_mutated_bytes_never_raise(export: list, form: str, gz: bool, m: fz.ByteMutation) -> None:
    fz.check_any(fz.mutate_bytes(fz.encode(export, form, gz), m))


@settings(QUICK, max_examples=100)
@given(st.binary(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                                               lambda c: st.lists(c) | st.dictionaries(st.text(), c)).map(fz.dumps))
def test_readers_any_bytes_or_json_never_raise(data: bytes) -> None:
    fz.check_any(data)
