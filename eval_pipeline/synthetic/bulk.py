"""Many spans fast, for the ingest benchmark: a few hundred planned traces become byte templates with markers
for ids, session, user and times, which :func:`generate_bulk` fills in one request line at a time."""

import dataclasses
import datetime
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from eval_pipeline.synthetic.content import APPS, FAMILIES, resource_attributes
from eval_pipeline.synthetic.conventions import encode
from eval_pipeline.synthetic.plans import DAY_NS, TracePlan, day_ns, plan_session
from eval_pipeline.synthetic.writers import Style, attrs_json, span_json


class _TemplateStyle(Style):
    """Writes times as ``@@N<offset>@@`` markers that :func:`generate_bulk` fills in."""

    def ns(self, t: int) -> Any:
        return f"@@N{t}@@"


_MARK = re.compile(rb"@@([TSNXY])(\d*)@@")
_MARK_KINDS = b"TSNXY"


@dataclass
class _Template:
    family: str
    duration: int
    n_ids: int
    spans: list[tuple[str, tuple[str, str], bytes, tuple[tuple[int, int], ...]]]  # family, scope, format, marks


def _templatize(p: TracePlan) -> TracePlan:
    """The plan with ids, session, user and times replaced by markers (times relative to the root's start)."""
    t0 = p.start_ns
    steps = [dataclasses.replace(s, span_id=f"@@S{i + 1}@@", start_ns=s.start_ns - t0, end_ns=s.end_ns - t0)
             for i, s in enumerate(p.steps)]
    return dataclasses.replace(p, trace_id="@@T@@", root_span_id="@@S0@@", session_id="@@X@@", user_id="@@Y@@",
                               start_ns=0, end_ns=p.end_ns - t0, steps=steps)


def _compile(data: bytes) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    parts = _MARK.split(data)
    fmt = b"%s".join(lit.replace(b"%", b"%%") for lit in parts[0::3])
    marks = tuple((_MARK_KINDS.index(k), int(a) if a else 0) for k, a in zip(parts[1::3], parts[2::3], strict=True))
    return fmt, marks


def _templates(rng: random.Random, n: int) -> list[_Template]:
    style = _TemplateStyle(compliant=True)
    out = []
    i = 0
    while len(out) < n:
        for p in plan_session(rng, FAMILIES[i % len(FAMILIES)]):
            t = _templatize(p)
            spans = [(s.family, s.scope, *_compile(orjson.dumps(span_json(s, style)))) for s in encode(t)]
            out.append(_Template(p.family, t.end_ns, p.n_spans, spans))
        i += 1
    return out


# Session id spellings per family (as in plans._session_user) and the random bits that fill them.
_SESSION_FORMATS = {"otel_genai": (b"conv_%024x", 96), "otel_genai_legacy": (b"session-%016x", 64),
                    "openinference": (b"%032x", 128), "mlflow": (b"sess-%08d", 26),
                    "traceloop": (b"session-%016x", 64), "vercel_ai": (b"chat_%016x", 64)}


def generate_bulk(landing_dir: Path, day: datetime.date, n_spans: int, files: int = 20, seed: int = 1,
                  template_seed: int | None = None) -> dict:
    """Write about ``n_spans`` spans of realistic agent traffic for one UTC day as Collector JSON-lines files.

    Traces are copies of a few hundred planned traces (every convention family) with fresh ids, sessions,
    users and times, so writing is fast and memory stays flat: one request line at a time. The planned traces
    come from ``template_seed`` (default ``seed``): days of one template seed are steady traffic (the same
    population, copies drawn anew); days of different seeds are different populations of a few hundred
    shapes each, which the drift checks rightly flag at scale.
    Returns files, spans, traces, lines and bytes written.
    """
    if n_spans < 1 or files < 1:
        msg = f"n_spans ({n_spans}) and files ({files}) must both be at least 1."
        raise ValueError(msg)
    rng = random.Random(seed)  # without a template seed, one stream for both (the figures of earlier benches)
    templates = _templates(rng if template_seed is None else random.Random(template_seed), 240)
    resources = {f: orjson.dumps({"attributes": attrs_json(resource_attributes(APPS[f]), Style())}) for f in FAMILIES}
    folder = Path(landing_dir) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    day0 = day_ns(day)
    slice_ns = DAY_NS // files
    total = traces = lines = size = 0
    open_sessions: dict[str, tuple[bytes, bytes, int]] = {}
    for f in range(files):
        quota = (f + 1) * n_spans // files
        path = folder / f"otlp-bulk-{day:%Y%m%d}-{f:04d}.jsonl"
        with path.open("wb") as fh:
            while total < quota:
                groups: dict[str, dict[tuple[str, str], list[bytes]]] = {}
                in_line = 0
                line_target = rng.randint(100, 400)
                while in_line < line_target and total < quota:
                    tpl = templates[rng.randrange(len(templates))]
                    tid = b"%032x" % rng.getrandbits(128)
                    sids = [b"%016x" % rng.getrandbits(64) for _ in range(tpl.n_ids)]
                    base = day0 + f * slice_ns + rng.randrange(slice_ns)
                    base = min(base, day0 + DAY_NS - tpl.duration - 1)
                    sess, user, turns_left = open_sessions.get(tpl.family) or (b"", b"", 0)
                    if turns_left == 0:  # a new session of one to six turns
                        form, bits = _SESSION_FORMATS[tpl.family]
                        sess = form % rng.getrandbits(bits)
                        user = b"user-%05d" % rng.randrange(100000)
                        turns_left = rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6))
                    open_sessions[tpl.family] = (sess, user, turns_left - 1)
                    for family, scope, fmt, marks in tpl.spans:
                        vals = []
                        for k, a in marks:
                            if k == 1:
                                vals.append(sids[a])
                            elif k == 2:
                                vals.append(b"%d" % (base + a))
                            elif k == 0:
                                vals.append(tid)
                            elif k == 3:
                                vals.append(sess)
                            else:
                                vals.append(user)
                        groups.setdefault(family, {}).setdefault(scope, []).append(fmt % tuple(vals))
                    in_line += tpl.n_ids
                    total += tpl.n_ids
                    traces += 1
                rs = []
                for family, scopes in groups.items():
                    ss = b",".join(b'{"scope":' + orjson.dumps({"name": name, "version": version}) + b',"spans":['
                                   + b",".join(spans) + b"]}" for (name, version), spans in scopes.items())
                    rs.append(b'{"resource":' + resources[family] + b',"scopeSpans":[' + ss + b"]}")
                line = b'{"resourceSpans":[' + b",".join(rs) + b"]}\n"
                fh.write(line)
                lines += 1
                size += len(line)
    return {"files": files, "spans": total, "traces": traces, "lines": lines, "bytes": size}
