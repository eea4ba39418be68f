"""One self-contained HTML page per gate run, under ``<reports>/gates/``: the verdict at the top, the judges'
paired differences with their intervals, the worst strata, the pairwise judge, the curated suites, and
example regressions with both responses side by side. Masked text only."""

from pathlib import Path

from eval_pipeline.lib.gate.compare import points
from eval_pipeline.lib.gate.run import GateRun
from eval_pipeline.lib.gate.summary import interval, pct
from eval_pipeline.lib.report.html import esc, page, table

_STRATA_SHOWN = 5
_EXAMPLES_PER_JUDGE = 3
_FAILURES_SHOWN = 10
_CLIP = 800
_CSS = ("<style>.verdict{font-size:26px;font-weight:700;padding:10px 14px;border-radius:8px;margin:8px 0 4px}"
        ".pass{background:#e3f4e8;color:#146c2e}.fail{background:#fde7e5;color:#b42318}"
        ".error{background:#fff4d6;color:#8a5a00}.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}"
        ".pair pre,.req{white-space:pre-wrap;background:#fff;border:1px solid #dde1e8;border-radius:6px;"
        "padding:8px;margin:4px 0;font:12px/1.4 ui-monospace,monospace}</style>")


def page_path(reports_dir: Path, run: GateRun) -> Path:
    return Path(reports_dir) / "gates" / f"{run.gate_id}_{run.candidate.label()}_{run.inputs.dataset_version}.html"


def write_page(reports_dir: Path, run: GateRun) -> Path:
    """Write the run's page (replaced whole) and return its path."""
    path = page_path(reports_dir, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render(run), encoding="utf-8")
    tmp.replace(path)
    return path


def _clip(text: str | None) -> str:
    if text is None:
        return "(no response)"
    return text if len(text) <= _CLIP else text[:_CLIP] + f" [... {len(text) - _CLIP} more characters]"


def render(run: GateRun) -> str:
    inputs = run.inputs
    word = {"pass": "PASSED", "fail": "FAILED"}.get(run.verdict, "ERROR: could not decide")
    parts = [_CSS, f"<h1>Release gate: {esc(run.candidate.label())}</h1>",
             f'<div class="verdict {esc(run.verdict)}">{esc(word)}</div>',
             f"<div class=sub>candidate {esc(run.candidate.kind)} <code>{esc(run.candidate.target)}</code> against "
             f"production on dev-eval dataset <code>{esc(inputs.dataset_version)}</code> ({inputs.window_start} .. "
             f"{inputs.window_end}); margin {run.margin * 100:.1f} points; judge model "
             f"{esc(run.judge_model or 'none')}; gate {esc(run.gate_id)} at {run.gated_at:%Y-%m-%d %H:%M} UTC</div>"]
    if run.reasons:
        parts.append("<ul>" + "".join(f"<li>{esc(r)}</li>" for r in run.reasons) + "</ul>")
    failed = run.calls.failed if run.calls else []
    cards = [("production records", len(inputs.production)), ("curated records", len(inputs.curated)),
             ("candidate failures", len(failed)),
             ("judge calls", sum(r.calls for r in run.judge_runs)),
             ("judge spend", f"${sum(r.cost_usd for r in run.judge_runs):.4f}")]
    parts.append("<div class=cards>" + "".join(f"<div class=card><b>{esc(v)}</b><span>{esc(k)}</span></div>"
                                               for k, v in cards) + "</div>")
    parts += [_judges(run), _strata(run), _pairwise(run), _curated(run), _examples(run), _failures(run)]
    return page(f"Release gate {run.candidate.label()} {word}", "".join(parts))


def _judges(run: GateRun) -> str:
    if not run.comparisons:
        return ""
    rows = [[esc(c.judge), pct(c.production), pct(c.candidate),
             points(c.difference.value) if c.difference else "n/a", interval(c.difference, True),
             str(c.difference.n if c.difference else 0), str(c.candidate_unknown),
             f'<span class="{"" if c.verdict == "pass" else "bad"}">{esc(c.verdict)}</span>']
            for c in run.comparisons]
    return ("<h2>Gating judges: candidate minus production, weighted to production traffic</h2>"
            + table(["judge", "production", "candidate", "difference (points)", "95 % interval (points)", "n",
                     "candidate unknown", "verdict"], rows, {1, 2, 3, 5, 6}))


def _strata(run: GateRun) -> str:
    rows = [[esc(c.judge), esc(s), points(e.value), interval(e, True), str(e.n)]
            for c in run.comparisons for s, e in c.strata[:_STRATA_SHOWN] if e.value < 0]
    if not rows:
        return ""
    return "<h2>Worst strata</h2>" + table(["judge", "stratum", "difference", "95 % interval", "n"], rows, {2, 4})


def _pairwise(run: GateRun) -> str:
    if run.pairwise is None:
        return ""
    rows = [[kind, pct(e), interval(e), str(e.n if e else 0)] for kind, e in run.pairwise.rates.items()]
    agreement = run.pairwise.order_agreement
    note = "" if agreement is None else f"<div class=sub>The two orders agreed on {agreement:.0%} of the records.</div>"
    return ("<h2>Pairwise judge (candidate against production, both orders)</h2>"
            + table(["outcome", "rate", "95 % interval", "n"], rows, {1, 3}) + note)


def _curated(run: GateRun) -> str:
    if not run.inputs.curated:
        return ""
    rows = [[esc(c.judge), pct(c.rate), interval(c.rate), str(c.passed), str(c.failed), str(c.unknown)]
            for c in run.curated]
    out = ("<h2>Curated suites (not weighted into production estimates)</h2>"
           + table(["judge", "candidate pass rate", "95 % interval", "passed", "failed", "unknown"], rows,
                   {1, 3, 4, 5}))
    if run.must_pass_failures:
        out += "<h3>Must-pass records that did not pass</h3>" + table(
            ["record", "judge", "verdict", "reason", "rationale"],
            [[esc(f.record_id), esc(f.judge), esc(f.verdict), esc(f.reason or ""), esc(f.rationale)]
             for f in run.must_pass_failures])
    return out


def _examples(run: GateRun) -> str:
    answers = run.responses()
    out = []
    for judge, cand in run.candidate_verdicts.items():
        lost = [(r, c) for r, p, c in zip(run.inputs.production, run.production[judge], cand, strict=True)
                if p.verdict == "pass" and c.verdict != "pass"]
        for r, c in sorted(lost, key=lambda rc: -rc[0].weight)[:_EXAMPLES_PER_JUDGE]:
            prod = (r.production or {}).get("response")
            out.append(f"<h3>{esc(judge)}: {esc(r.record_id)} (stratum {esc(r.stratum)}, weight {r.weight:.1f})</h3>"
                       f"<div class=req>{esc(_clip(r.request))}</div><div class=pair>"
                       f"<div><b>production: pass</b><pre>{esc(_clip(prod))}</pre></div>"
                       f"<div><b>candidate: {esc(c.verdict)}</b><pre>{esc(_clip(answers[r.record_id].response))}</pre>"
                       f"<i>{esc(c.rationale)}</i></div></div>")
    return "<h2>Example regressions</h2>" + "".join(out) if out else ""


def _failures(run: GateRun) -> str:
    failed = run.calls.failed if run.calls else []
    if not failed:
        return ""
    rows = [[esc(r.record_id), esc(r.error_kind), esc(r.error), str(r.attempts)] for r in failed[:_FAILURES_SHOWN]]
    return (f"<h2>Candidate calls that failed ({len(failed)})</h2>"
            + table(["record", "kind", "error", "attempts"], rows, {3}))
