"""Registered claims, computed verdicts and the claims ledger (``shared/spec/verdicts.md``, v3).

A claim is declared once, in its chapter's registry next to the science it tests, as a
:class:`ClaimSpec` (``spec``), registered in ``results/claims_history.json`` before the run that
fills it (``registry``). A chapter measures the :class:`Evidence` of each configuration (contrasts
against the nulls as :class:`rgnb.effects.Effect`), *evaluates* the claim (:func:`evaluate`: the v3
rule of ``rule``, decided by the primary configuration, the others as sub-rows) and *records* the
rows (:func:`record`). ``tables`` shows them.

Modules: ``spec`` (ClaimSpec, Evidence, verdict names), ``rule`` (the verdict rule, the verdict as
a function of the margin), ``ledger`` (Row, evaluate, record, load_ledger, the Holm family),
``registry`` (registries, history, post hoc), ``tables`` (Markdown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rgnb.claims.ledger import (SCHEMA, Row, evaluate, holm_adjusted, holm_decisions, holm_family, kind_of,
                                ledger_json, ledger_text, load_ledger, record, tally)
from rgnb.claims.rule import ALPHA, Decision, critical_margin, decide, margin_segments
from rgnb.claims.spec import (CLAIM_KINDS, INCONCLUSIVE, NOT_REPRODUCED, PAPERS, PREMISE_NOT_MET, REPRODUCED, SANITY,
                              SOURCES, VACUOUS, VERDICTS, ClaimSpec, Evidence)
from rgnb.claims.tables import (PROFILE_NOTES, ClaimsTable, anchor, chapter_markdown, dashboard_markdown, findings_markdown,
                                ledger_markdown, markdown_table, tally_text)

__all__ = ["ALPHA", "CLAIM_KINDS", "ClaimSpec", "ClaimsTable", "Decision", "Evidence", "INCONCLUSIVE",
           "NOT_REPRODUCED", "PAPERS", "PREMISE_NOT_MET", "PROFILE_NOTES", "REPRODUCED", "Row", "SANITY", "SCHEMA",
           "SOURCES", "VACUOUS", "VERDICTS", "anchor", "chapter_markdown", "critical_margin", "dashboard_markdown",
           "decide", "evaluate", "findings_markdown", "holm_adjusted", "holm_decisions", "holm_family", "kind_of", "ledger_json",
           "ledger_markdown", "ledger_text", "load_ledger", "margin_segments", "markdown_table", "record", "tally", "tally_text",
           "main"]

if TYPE_CHECKING:
    from rgnb.environment import Settings


def main(argv: list[str] | None = None, settings: "Settings | None" = None) -> int:
    """``python -m rgnb claims [--run-dir DIR] [--json]`` prints a run's ledger; ``python -m rgnb claims
    register [--what TEXT]`` appends the registries' new specs and the stored ledger's results to the history."""
    import argparse

    from rgnb.claims import registry

    argv = list(argv or [])
    if argv[:1] == ["register"]:
        parser = argparse.ArgumentParser(prog="python -m rgnb claims register",
                                         description="register the current specs and the stored results")
        parser.add_argument("--what", default="", help="what changed (recorded with change events)")
        parser.add_argument("--run-dir", default=None, help="ledger whose results to record (default: book/_run)")
        args = parser.parse_args(argv[1:])
        rows = _load_or_exit(parser, args.run_dir, settings)
        new = registry.register(registry.all_specs(), rows, what=args.what)
        for e in new:
            print(f"{e['event']:8s} {e['claim']:36s} {e.get('spec_hash', '')} {e.get('what', '')}")
        print(f"{len(new)} new events in {registry.CLAIMS_HISTORY}")
        return 0
    parser = argparse.ArgumentParser(prog="python -m rgnb claims", description="print the claims ledger of a run")
    parser.add_argument("--run-dir", default=None, help="run directory (default: book/_run, or $RGNB_RUN_DIR)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows = _load_or_exit(parser, args.run_dir, settings)
    print(ledger_json(rows) if args.json else ledger_text(rows))
    return 0


def _load_or_exit(parser, run_dir, settings) -> list:
    """The ledger of ``run_dir`` (default: the settings' run directory, else ``book/_run``); exit 2 if absent."""
    from pathlib import Path

    from rgnb.environment import settings_or_read
    from rgnb.provenance import REPO_ROOT

    directory = Path(run_dir) if run_dir else (settings_or_read(settings).run_dir or REPO_ROOT / "book" / "_run")
    try:
        return load_ledger(directory)
    except FileNotFoundError as exc:
        parser.error(str(exc))
