"""Where the book's files live: the repository root, ``_toc.yml`` and the chapters in book order.

The one module that knows the repository's layout; it imports nothing of ``rgnb``, so any module
(the claims ledger, the executor, the site checks) may read the chapter order without depending on
the papermill driver.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TOC = REPO_ROOT / "_toc.yml"
#: Lab history as data: registered claim specs and the results stored under them.
CLAIMS_HISTORY = REPO_ROOT / "results" / "claims_history.json"


def chapters(toc: Path = TOC) -> list[str]:
    """Chapter names in book order, read from ``_toc.yml`` (entries ``book/<name>``)."""
    data = yaml.safe_load(Path(toc).read_text())
    entries = [data["root"]]
    for part in data.get("parts", [data]):
        entries += [c["file"] for c in part.get("chapters", [])]
    return [Path(e).name for e in entries]
