"""Registration: the chapters' registries, the claims history, and post hoc status derived from it.

Each chapter declares its specs in one registry module (:data:`REGISTRY_MODULES`, each with a
``REGISTRY`` tuple of :class:`~rgnb.claims.spec.ClaimSpec`). The history
(``results/claims_history.json``, lab history as data) is a list of events, oldest first:

- ``register``: a spec hash registered for a claim (before the run that fills it);
- ``change``: the registered spec of a claim replaced by another hash;
- ``result``: a result stored for a claim under a hash (the committed ledger);
- ``rule``: the verdict rule changed for every claim alike (v2 -> v3); not a per-claim change.

A claim is **post hoc** when its spec (or the spec of a claim it ``replaces``) was changed after a
result for it had been stored: a ``change`` event after a ``result`` event. ``python -m rgnb
claims register`` appends the ``register`` / ``change`` events of the current registries and the
``result`` events of the committed ledger; nothing else writes the file, so a reader's re-run never
changes it.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
from pathlib import Path

from rgnb.claims.spec import ClaimSpec
from rgnb.layout import CLAIMS_HISTORY

#: Modules holding a chapter's ``REGISTRY`` (tuple of ClaimSpec).
REGISTRY_MODULES = ("rgnb.spectra", "rgnb.mlp.registry", "rgnb.rg.registry", "rgnb.eft.registry")
EVENTS = ("register", "change", "result", "rule")
SCHEMA = 1


def all_specs(modules: tuple[str, ...] = REGISTRY_MODULES) -> dict[str, ClaimSpec]:
    """Every registered spec of the book, id -> spec (ids are unique across chapters)."""
    out: dict[str, ClaimSpec] = {}
    for name in modules:
        for spec in importlib.import_module(name).REGISTRY:
            if spec.id in out:
                raise ValueError(f"claim id {spec.id!r} is registered twice ({name})")
            out[spec.id] = spec
    return out


def load_history(path: str | Path = CLAIMS_HISTORY) -> list[dict]:
    """The history's events, oldest first ([] if there is no history file)."""
    path = Path(path)
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a schema-{SCHEMA} claims history")
    for e in data["events"]:
        if e.get("event") not in EVENTS:
            raise ValueError(f"{path}: unknown event {e.get('event')!r}; allowed: {EVENTS}")
    return list(data["events"])


def _claims_of(event: dict) -> list[str]:
    return list(event.get("claims") or [event["claim"]])


def registered_hash(claim_id: str, events: list[dict]) -> str | None:
    """The spec hash most recently registered (or changed to) for ``claim_id``."""
    h = None
    for e in events:
        if e["event"] in ("register", "change") and claim_id in _claims_of(e):
            h = e.get("spec_hash", h)
    return h


def post_hoc(spec: ClaimSpec, events: list[dict]) -> tuple[bool, str]:
    """Whether ``spec`` (or a claim it replaces) was changed after a result for it was stored, and why."""
    ids = {spec.id} | ({spec.replaces} if spec.replaces else set())
    seen_result: dict | None = None
    for e in events:
        if not ids & set(_claims_of(e)):
            continue
        if e["event"] == "result" and seen_result is None:
            seen_result = e
        elif e["event"] == "change" and seen_result is not None:
            return True, (f"{e.get('what') or 'spec changed'} ({e.get('date', '?')}), after a result was stored "
                          f"({seen_result.get('what') or seen_result.get('date', '?')})")
        elif e["event"] == "register" and seen_result is not None and spec.replaces and spec.id in _claims_of(e):
            return True, (f"registered ({e.get('date', '?')}) to replace {spec.replaces!r} after its result "
                          f"({seen_result.get('what') or seen_result.get('date', '?')})")
    return False, ""


def protocol_history(ids, events: list[dict]) -> list[dict]:
    """The events that make the protocol history of the claims ``ids``: every event touching them (and the
    ``rule`` events), except the results stored under the hash registered now (those are what the chapter
    itself shows; listing them would change the chapter each time its results are registered)."""
    ids = set(ids)
    out = []
    for e in events:
        mine = set(_claims_of(e))
        if e["event"] == "rule" or "*" in mine:
            out.append(e)
        elif mine & ids and not (e["event"] == "result" and e.get("spec_hash")
                                 and all(registered_hash(c, events) == e["spec_hash"] for c in mine & ids)):
            out.append(e)
    return out


def history_lines(ids, events: list[dict]) -> list[str]:
    """The protocol history of the claims ``ids`` (:func:`protocol_history`) as text lines: date, event, the
    claims it touches (or "every claim"), what changed."""
    ids = set(ids)
    lines = []
    for e in protocol_history(ids, events):
        mine = set(e.get("claims") or [e["claim"]])
        if mine & ids or "*" in mine:
            lines.append(f"{e['date']} {e['event']:8s} {', '.join(sorted(mine & ids) or ['every claim'])}: "
                         f"{e.get('what') or e.get('spec_hash', '')}")
    return lines


def history_markdown(ids, events: list[dict]) -> str:
    """The protocol history of the claims ``ids`` as a Markdown list (a rule change reads "every claim")."""
    ids = set(ids)
    lines = []
    for e in protocol_history(ids, events):
        mine = sorted(ids & set(e.get("claims") or [e.get("claim")])) or (["every claim"] if e["event"] == "rule" else [])
        if mine:
            lines.append(f"- {e.get('date', '?')}, **{e['event']}** ({', '.join(mine)}): {e.get('what') or e.get('spec_hash', '')}")
    return "\n".join(lines)


def check_registered(spec: ClaimSpec, events: list[dict]) -> None:
    """Refuse a spec whose hash is not the one registered for its id (register it first)."""
    h = registered_hash(spec.id, events)
    if h != spec.spec_hash():
        raise ValueError(f"claim {spec.id!r}: its spec hash {spec.spec_hash()} is not the registered one "
                         f"({h or 'none'}); register the spec before the run that fills it: "
                         "`python -m rgnb claims register` (a change after a stored result makes the row post hoc)")


def register(specs: dict[str, ClaimSpec], ledger_rows: list, path: str | Path = CLAIMS_HISTORY,
             date: str | None = None, what: str = "") -> list[dict]:
    """Append the ``register`` / ``change`` events of ``specs`` and the ``result`` events of ``ledger_rows``
    (stored rows whose (id, hash) has no result yet); returns the new events."""
    path = Path(path)
    events = load_history(path)
    date = date or _dt.date.today().isoformat()
    new: list[dict] = []
    for sid, spec in specs.items():
        h = registered_hash(sid, events + new)
        if h == spec.spec_hash():
            continue
        new.append({"event": "register" if h is None else "change", "claim": sid, "spec_hash": spec.spec_hash(),
                    "date": date, **({"what": what} if what else {})})
    done = {(c, e.get("spec_hash")) for e in events + new if e["event"] == "result" for c in _claims_of(e)}
    for r in ledger_rows:
        if r.spec_hash and (r.id, r.spec_hash) not in done and r.spec_hash == registered_hash(r.id, events + new):
            new.append({"event": "result", "claim": r.id, "spec_hash": r.spec_hash, "date": date,
                        "what": f"{r.profile}: {r.verdict}"})
            done.add((r.id, r.spec_hash))
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"schema": SCHEMA, "events": events + new}, indent=1, sort_keys=True) + "\n")
    return new
