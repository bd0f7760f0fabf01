"""Author-year labels in the bibliography ("Haggi-Mani and Rish, 2026"), matching the author-year citations
of the text (``bibtex_reference_style: author_year``). Registered as the pybtex formatting style
:data:`STYLE_NAME` when the site extension loads; ``_config.yml`` selects it (``bibtex_default_style``)."""

from __future__ import annotations

import re
from collections import Counter

from pybtex.plugin import find_plugin, register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

STYLE_NAME = "rgnb_author_year"


def _last(person) -> str:
    return re.sub(r"[{}\\]", "", " ".join(person.last_names)).strip()


def author_year(entry) -> str:
    """``Last``, ``Last and Last`` or ``Last et al.``, then ``, year`` (``n.d.`` without one)."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last(p) for p in persons]
    if not names:
        who = entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-year labels; equal ones get a, b, ... after the year."""

    def format_labels(self, sorted_entries):
        labels = [author_year(e) for e in sorted_entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] % 26]
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entries, sorted by author, year and title, labelled author-year."""

    default_label_style = AuthorYearLabels
    default_sorting_style = find_plugin("pybtex.style.sorting", "author_year_title")


def register() -> None:
    """Make :data:`STYLE_NAME` known to pybtex (idempotent)."""
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle, force=True)


__all__ = ["STYLE_NAME", "AuthorYearLabels", "AuthorYearStyle", "author_year", "register"]
