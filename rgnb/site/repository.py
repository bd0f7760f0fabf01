"""The repository's public address: one setting (``repository: url`` in ``_config.yml``), the clone line the
README and the appendix give readers, and the refusal to publish while it is the placeholder."""

from __future__ import annotations

from pathlib import Path

from rgnb.layout import REPO_ROOT

CONFIG = REPO_ROOT / "_config.yml"
#: The address ``_config.yml`` ships with until the real one is known: the build refuses to publish with it.
PLACEHOLDER_URL = "https://github.com/rgnb-authors/rgnb-book"


def repository_url(config: Path = CONFIG) -> str:
    """``repository: url`` of the book's ``_config.yml`` (``""`` when unset)."""
    import yaml

    data = yaml.safe_load(Path(config).read_text()) or {}
    return str((data.get("repository") or {}).get("url") or "").strip()


def is_placeholder(url: str) -> bool:
    """True for an unset address or the shipped placeholder."""
    return not url or url.rstrip("/").removesuffix(".git") == PLACEHOLDER_URL


def clone_markdown(config: Path = CONFIG) -> str:
    """Where the code is, for readers: the clone command, or, while the address is the placeholder, that plainly."""
    url = repository_url(config)
    if is_placeholder(url):
        return ("**Where the code is.** This build was made before the repository's public address was set: "
                f"`_config.yml` still holds the placeholder `{PLACEHOLDER_URL}`, so there is no address to clone yet. "
                "The code, the stored runs and the book's sources are the repository this site was built from "
                "(`rgnb/`, `book/`, `results/`); a published build names its address here.")
    return f"**Where the code is.** The code, the stored runs and the book's sources:\n\n```bash\ngit clone {url}\n```"


def check_publishable(config: Path = CONFIG) -> None:
    """Raise ValueError when the repository address is the placeholder (every repository, issue and launch
    button of the site would point nowhere)."""
    url = repository_url(config)
    if is_placeholder(url):
        raise ValueError(f"refusing to publish: repository url in {Path(config).name} is {url or 'unset'!r}, the "
                         "placeholder; set the real repository address (repository: url) first")


__all__ = ["PLACEHOLDER_URL", "check_publishable", "clone_markdown", "is_placeholder", "repository_url"]
