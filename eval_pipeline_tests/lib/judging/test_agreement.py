"""Contract of judge/human agreement: labels are normalised to pass/fail (synonyms accepted, anything
else dropped), one label per (trace, judge) with table > file > trace precedence; per judge, accuracy,
Cohen's kappa and the confusion matrix are computed over records where the judge said pass or fail,
and the judge's unknowns are counted apart; kappa is undefined when chance agreement is certain. A day's
agreement merges the table, trace and file labels and gives the judge_agreement rows and a summary."""

import json

import pytest

from eval_pipeline.lib.judging.agreement import (
    agreement,
    cohen_kappa,
    day_agreement,
    merge_labels,
    normalize_label,
    read_labels_file,
)


def test_normalize_label_accepts_synonyms_and_drops_the_rest():
    assert [normalize_label(v) for v in ("pass", " PASS ", "thumbs-up", "True", True, 1, "good")] == ["pass"] * 7
    assert [normalize_label(v) for v in ("fail", "thumbs_down", "no", False, 0, "incorrect")] == ["fail"] * 6
    assert [normalize_label(v) for v in ("maybe", "", None, 0.5, "3")] == [None] * 5


def test_cohen_kappa_matches_a_worked_example():
    # 50 records: both pass 20, both fail 15, human pass / judge fail 5, human fail / judge pass 10.
    pairs = [("pass", "pass")] * 20 + [("fail", "fail")] * 15 + [("pass", "fail")] * 5 + [("fail", "pass")] * 10
    # p_o = 35/50 = 0.7; p_e = (25*30 + 25*20) / 2500 = 0.5; kappa = 0.2 / 0.5 = 0.4
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("pass", "pass"), ("fail", "fail")]) == pytest.approx(1.0)
    assert cohen_kappa([("pass", "fail"), ("fail", "pass")]) == pytest.approx(-1.0)
    assert cohen_kappa([("pass", "pass")] * 3) is None  # chance agreement is certain
    assert cohen_kappa([]) is None


def test_merge_labels_prefers_table_then_file_then_trace():
    rows = [
        {"trace_id": "t1", "judge": "relevance", "label": "fail", "source": "trace"},
        {"trace_id": "t1", "judge": "relevance", "label": "pass", "source": "table"},
        {"trace_id": "t1", "judge": "relevance", "label": "fail", "source": "file"},
        {"trace_id": "t2", "judge": "relevance", "label": "thumbs_down", "source": "trace"},
        {"trace_id": "t3", "judge": "relevance", "label": "great!", "source": "table"},  # defect: not a label
        {"trace_id": None, "judge": "relevance", "label": "pass", "source": "table"},  # defect: no trace id
    ]
    labels = merge_labels(rows)
    assert {k: (v.label, v.source) for k, v in labels.items()} == {
        ("t1", "relevance"): ("pass", "table"), ("t2", "relevance"): ("fail", "trace")}


def test_agreement_per_judge_counts_unknown_apart():
    scores = [
        {"trace_id": "a", "judge": "relevance", "verdict": "pass"},
        {"trace_id": "b", "judge": "relevance", "verdict": "fail"},
        {"trace_id": "c", "judge": "relevance", "verdict": "pass"},  # the judge disagrees with the human
        {"trace_id": "d", "judge": "relevance", "verdict": "unknown"},
        {"trace_id": "e", "judge": "relevance", "verdict": "pass"},  # no human label
        {"trace_id": "a", "judge": "safety", "verdict": "pass"},
    ]
    labels = merge_labels([
        {"trace_id": t, "judge": "relevance", "label": lab, "source": "table"}
        for t, lab in [("a", "pass"), ("b", "fail"), ("c", "fail"), ("d", "pass")]
    ])
    (result,) = agreement(scores, labels)
    assert (result.judge, result.labelled, result.compared, result.judge_unknown) == ("relevance", 4, 3, 1)
    assert result.accuracy == pytest.approx(2 / 3)
    assert result.confusion == {"pass": {"pass": 1, "fail": 0}, "fail": {"pass": 1, "fail": 1}}
    # p_o = 2/3; p_e = (1*2 + 2*1) / 9 = 4/9; kappa = (2/9) / (5/9) = 0.4
    assert result.cohen_kappa == pytest.approx(0.4)


def test_read_labels_file_reads_csv_and_jsonl(tmp_path):
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("trace_id,judge,label,comment\nt1,relevance,pass,fine\nt2,safety,fail,\n")
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text(json.dumps({"trace_id": "t3", "judge": "relevance", "label": True}) + "\n\n")
    assert read_labels_file(csv_file) == [
        {"trace_id": "t1", "judge": "relevance", "label": "pass", "source": "file"},
        {"trace_id": "t2", "judge": "safety", "label": "fail", "source": "file"}]
    assert read_labels_file(jsonl) == [{"trace_id": "t3", "judge": "relevance", "label": True, "source": "file"}]


def test_read_labels_file_explains_bad_files(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("trace,verdict\nt1,pass\n")  # defect: wrong header
    with pytest.raises(ValueError, match=r"has no column\(s\) \['judge', 'label', 'trace_id'\]"):
        read_labels_file(bad)
    with pytest.raises(FileNotFoundError, match="judging.labels_file"):
        read_labels_file(tmp_path / "missing.csv")
    broken = tmp_path / "labels.jsonl"
    broken.write_text("{not json}\n")  # defect: not JSON
    with pytest.raises(ValueError, match="Line 1 of the labels file"):
        read_labels_file(broken)


def test_day_agreement_merges_sources_and_gives_rows_and_summary(tmp_path):
    labels_file = tmp_path / "labels.csv"
    labels_file.write_text("trace_id,judge,label\nt1,relevance,pass\nt2,relevance,fail\n")
    scores = [{"trace_id": t, "judge": "relevance", "verdict": v} for t, v in
              (("t1", "pass"), ("t2", "pass"), ("t3", "fail"), ("t4", "unknown"))]
    rows = [{"trace_id": "t2", "judge": "relevance", "label": "pass", "source": "table"},  # beats the file's fail
            {"trace_id": "t3", "judge": "relevance", "label": "thumbs_down", "source": "trace"},
            {"trace_id": "t4", "judge": "relevance", "label": "fail", "source": "trace"}]
    day = day_agreement(scores, rows, str(labels_file))
    assert day.labels == 4
    (row,) = day.rows()
    assert (row["judge"], row["labelled"], row["compared"], row["judge_unknown"]) == ("relevance", 4, 3, 1)
    assert json.loads(row["confusion"]) == {"pass": {"pass": 2, "fail": 0}, "fail": {"pass": 0, "fail": 1}}
    assert day.kappas() == {"relevance": pytest.approx(1.0)}
    assert day.summary_table().splitlines()[2] == "| relevance | 3 | 1 | 1.00 | 1.00 | 2/0 | 0/1 |"
    assert day_agreement(scores, [], "").rows() == []  # no labels: nothing to compare
