"""Mask personal data and secrets in trace text with typed, keyed pseudonyms such as ``<EMAIL:7f3a9c01b2>``.

- ``detectors``: the detectors as data (pattern, boundaries, validator per entity type; normal forms);
- ``engine``: one pass of every detector over a column or a whole raw_traces-shaped frame (mask, scan);
- ``pseudonyms``: the token formula, the placeholder pattern and the key, each defined once;
- ``numbers``: what a run of digits is (card, phone of any region, IPv4, SSN), decided once per value;
- ``names``: the name tier (Presidio over spaCy) for people, places and organisations in eval records;
- ``records``: the name tier over a day's eval records (eval_dataset), and the status it records;
- ``json_values``: a tool call's JSON string values, read and written back one by one by the name tier;
- ``policy``: the row policy (opt-out, services, tenants);
- ``day``: a day of masked_traces (read, policy, mask, write) and the scan behind the blocking check;
- ``reference``: the same detectors through Python's ``re``, the benchmark's baseline and the tests' oracle.
"""

from eval_pipeline.lib.masking.day import DayScan, MaskedDay, mask_day, scan_day, write_day
from eval_pipeline.lib.masking.detectors import DETECTORS, KINDS, PATTERN_KINDS, Detector, normal_form
from eval_pipeline.lib.masking.engine import (
    ID_COLUMNS,
    PII_FOUND,
    MaskResult,
    mask_frame,
    mask_series,
    redacted,
    scan_frame,
    scan_series,
    text_bytes,
    texts_of,
)
from eval_pipeline.lib.masking.names import NameDetector, NameTier, mask_names
from eval_pipeline.lib.masking.names import load as load_name_detector
from eval_pipeline.lib.masking.names import load_tier as load_name_tier
from eval_pipeline.lib.masking.names import tier_status as name_tier_status
from eval_pipeline.lib.masking.policy import apply_row_policy, json_paths
from eval_pipeline.lib.masking.records import NamedDay, mask_dataset_names, mask_records, name_tier_of, names_checked
from eval_pipeline.lib.masking.pseudonyms import (
    PLACEHOLDER,
    PLACEHOLDER_RE,
    TOKEN_HEX,
    load_or_create_key,
    pseudonym,
    token_regex,
    tokenizer,
)

__all__ = [
    "DETECTORS", "ID_COLUMNS", "KINDS", "PATTERN_KINDS", "PII_FOUND", "PLACEHOLDER", "PLACEHOLDER_RE", "TOKEN_HEX",
    "DayScan", "Detector", "MaskResult", "MaskedDay", "NameDetector", "NameTier", "apply_row_policy",
    "json_paths", "load_name_detector", "load_name_tier", "mask_names", "NamedDay", "mask_dataset_names",
    "mask_records", "name_tier_status", "name_tier_of", "names_checked", "load_or_create_key", "mask_day",
    "mask_frame", "mask_series", "normal_form", "pseudonym", "redacted", "scan_day", "scan_frame", "scan_series",
    "text_bytes", "texts_of", "token_regex", "tokenizer", "write_day",
]
