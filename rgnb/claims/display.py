"""Claims text as a reader reads it: the registry's ASCII math (``xi ~ 7``, ``h^l``, ``lambda_2^k``,
``theta_l - R^l(theta_0)``) typeset, and HTML escaped.

:func:`math_html` turns a claim's plain text into HTML in which every recognised formula is a Sphinx
math span (``<span class="math">\\(...\\)</span>``, typeset by the site's MathJax); the rest of the text is
escaped. The rules are conservative: Greek letter names as whole words, identifiers with ``_`` or ``^``,
``~`` between a Greek letter and a number, ``->`` (arrow) between formulas. Text they do not match is
shown as it is, never guessed.
"""

from __future__ import annotations

import html
import re

GREEK = {"xi": r"\xi", "lambda": r"\lambda", "theta": r"\theta", "sigma": r"\sigma", "rho": r"\rho",
         "eps": r"\varepsilon", "epsilon": r"\varepsilon", "Gamma": r"\Gamma", "delta": r"\delta", "mu": r"\mu"}
_WORD = r"(?:" + "|".join(sorted(GREEK, key=len, reverse=True)) + r"|[A-Za-z]\d?|\d+)"
_SCRIPT = r"(?:_\{[^{}\s]+\}|\^\{[^{}\s]+\}|_[A-Za-z0-9]+|\^[A-Za-z0-9]+|\^\([^()\s]+\)|\*)"
#: A formula token: a Greek name or a one-letter identifier with sub/superscripts (or a Greek name alone,
#: or ``xi ~ 7`` / ``xi = 1``), optionally applied to a parenthesised formula (``R^l(theta_0)``).
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_\\])(?:"
    r"(?P<rel>(?:" + "|".join(GREEK) + r")(?:_[A-Za-z0-9]+)?\s*[~=]\s*-?\d+(?:\.\d+)?)"
    r"|(?P<sym>" + _WORD + _SCRIPT + r"+(?:\((?:[A-Za-z]+(?:_\w+)?)\))?)"
    r"|(?P<greek>(?:" + "|".join(GREEK) + r"))"
    r")(?![A-Za-z0-9_])")


def _tex_name(name: str) -> str:
    return GREEK.get(name, name)


def tex(token: str) -> str:
    """TeX for one ASCII formula token (``xi ~ 7`` -> ``\\xi \\approx 7``, ``lambda_2^k`` -> ``\\lambda_{2}^{k}``)."""
    m = re.fullmatch(r"([A-Za-z]+(?:_[A-Za-z0-9]+)?)\s*([~=])\s*(-?\d+(?:\.\d+)?)", token)
    if m:
        rel = r"\approx" if m.group(2) == "~" else "="
        return f"{tex(m.group(1))} {rel} {m.group(3)}"
    out = []
    m = re.match(r"[A-Za-z]+\d?|\d+", token)
    head, rest = m.group(0), token[m.end():]
    if head in GREEK:
        out.append(GREEK[head])
    elif len(head) == 2 and head[0].isalpha() and head[1].isdigit():  # K0 -> K_0
        out.append(f"{head[0]}_{{{head[1]}}}")
    else:
        out.append(head)
    for part in re.findall(r"[_^]\{[^{}\s]+\}|[_^][A-Za-z0-9]+|\^\([^()\s]+\)|\*|\([^()]*\)", rest):
        if part == "*":
            out.append("^{*}")
        elif part.startswith("("):
            out.append("(" + tex(part[1:-1]) + ")" if _TOKEN.fullmatch(part[1:-1]) else part)
        else:
            body = part[1:]
            if body[:1] in "({" and body[-1:] in ")}":
                body = body[1:-1]
            body = tex(body) if re.search(r"[_^]", body) and _TOKEN.fullmatch(body) else _tex_name(body)
            out.append(f"{part[0]}{{{body}}}")
    return "".join(out)


def well_formed(formula: str) -> bool:
    """False for TeX a converted token must not be typeset as: a second subscript or superscript on the same
    atom (``K_{0}_{ODE}``, which MathJax rejects) or unbalanced braces."""
    scripts = [set()]
    for ch in formula:
        if ch == "{":
            scripts.append(set())
        elif ch == "}":
            scripts.pop()
            if not scripts:
                return False
        elif ch in "_^":
            if ch in scripts[-1]:
                return False
            scripts[-1].add(ch)
        else:  # a new atom at this level
            scripts[-1] = set()
    return len(scripts) == 1


def _math_span(tex_text: str) -> str:
    return f'<span class="math notranslate nohighlight">\\({html.escape(tex_text, quote=False)}\\)</span>'


def math_html(text: str) -> str:
    """``text`` as HTML, every recognised ASCII formula typeset (a MathJax span); everything else escaped.

    Text that already holds TeX (``$...$``) is left to :func:`dollar_html`."""
    if "$" in text:
        return dollar_html(text)
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if m.group("greek") is None and m.group("rel") is None and not re.search(r"[_^*]", token):
            continue
        formula = tex(token)
        if not well_formed(formula):
            continue
        out.append(html.escape(text[pos:m.start()], quote=False))
        out.append(_math_span(formula))
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def mathtext(text: str) -> str:
    """``text`` with every recognised ASCII formula as matplotlib mathtext (``$\\xi \\approx 7$``), for labels."""
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if m.group("greek") is None and m.group("rel") is None and not re.search(r"[_^*]", token):
            continue
        if not well_formed(tex(token)):
            continue
        out.append(text[pos:m.start()].replace("$", r"\$"))
        out.append(f"${tex(token)}$")
        pos = m.end()
    out.append(text[pos:].replace("$", r"\$"))
    return "".join(out)


def short(text: str, width: int = 48) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters (an ellipsis marks the cut)."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[:width - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "\u2026"


def dollar_html(text: str) -> str:
    """HTML of text with ``$...$`` TeX spans (as the chapters' prose writes them): the spans typeset."""
    parts = re.split(r"(\$[^$]+\$)", text)
    return "".join(_math_span(p[1:-1]) if p.startswith("$") and p.endswith("$") and len(p) > 2
                   else html.escape(p, quote=False) for p in parts)


__all__ = ["GREEK", "dollar_html", "math_html", "mathtext", "short", "tex", "well_formed"]
