"""Layout as a reader's browser lays it out: what ``_static/rgnb.js`` measured on a page loaded with
``?rgnb-measure`` (tables against their containers, the verdict column, figures' scale, where the intro's
verdicts start), at the desktop width and, through a frame, at a phone's width.

Headless Chromium will not open a window narrower than 500 px, so the phone width is emulated by a frame
page (:func:`frame_html`, served by the site check's local server at :data:`FRAME_PATH`) that holds the page
in a 390 px ``<iframe>`` (media queries see the frame's width) and copies the frame's measurement out.
:func:`layout_problems` turns a measurement into problems.
"""

from __future__ import annotations

import json
import re

#: The phone width of the check (an iPhone 12-15 viewport, CSS px) and the desktop width.
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280
#: Path the local server answers with :func:`frame_html` (never a file of the built site).
FRAME_PATH = "/__rgnb_frame.html"
#: The intro's verdicts must start within this many px of the page top at the desktop width (first screen).
FIRST_SCREEN_PX = 900
#: Smallest text of a book-style figure (pt at :data:`rgnb.plots.STYLE` dpi) and the least px it may show at.
FIGURE_DPI = 110
FIGURE_MIN_PT = 9.0
FIGURE_MIN_PX = 9.0
_MEASURE = re.compile(r'<script[^>]*id="rgnb-measure"[^>]*>(.*?)</script>', re.S)


def frame_html(page: str, width: int = PHONE_WIDTH, height: int = 3200) -> str:
    """A page that shows ``page`` (a path under the site root) in a ``width`` px frame and copies the frame's
    layout measurement into its own DOM."""
    src = json.dumps(f"/{page.lstrip('/')}?rgnb-measure")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>frame</title></head>
<body style="margin:0;background:#fff">
<iframe id="f" src={src} style="border:0;width:{int(width)}px;height:{int(height)}px;display:block"></iframe>
<script>
var f = document.getElementById("f");
function grab() {{
  try {{
    var s = f.contentDocument && f.contentDocument.getElementById("rgnb-measure");
    if (s) {{
      var o = document.createElement("script"); o.type = "application/json"; o.id = "rgnb-measure";
      o.textContent = s.textContent; document.body.appendChild(o); return;
    }}
  }} catch (e) {{}}
  setTimeout(grab, 200);
}}
grab();
</script></body></html>"""


def parse_measure(dom: str) -> dict | None:
    """The measurement ``rgnb.js`` left in a dumped DOM, or None (the script did not run)."""
    m = _MEASURE.search(dom or "")
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def figure_text_px(image: dict) -> float | None:
    """Height (px) at which a figure's smallest text shows: its size at the book style's dpi, scaled by how
    much the browser shrank the image (``shown / natural`` width)."""
    if not image.get("natural") or not image.get("shown"):
        return None
    return FIGURE_MIN_PT * FIGURE_DPI / 72.0 * image["shown"] / image["natural"]


def layout_problems(measure: dict | None, width: int, page: str = "", intro: bool = False) -> tuple[list[str], dict]:
    """Problems of one page's layout at ``width`` and the counts behind them.

    - the page scrolls sideways (``scroll_width`` > viewport);
    - a table is wider than its container and no scrolling box holds it, or a scrolling box is wider than
      the article; a claims table (``table.rgnb-claims``) must fit without scrolling, its verdict column
      inside the viewport;
    - a figure's smallest text under :data:`FIGURE_MIN_PX` (on a phone the site shows figures 600 px
      wide in a box that scrolls sideways); at the desktop width, on the intro, the verdicts not starting
      within :data:`FIRST_SCREEN_PX`.
    """
    if measure is None:
        return [f"layout at {width} px: the page's measurement did not run (rgnb.js missing?)"], {}
    problems = []
    vw = measure["viewport"][0]
    art = measure["article"]
    if abs(vw - width) > 1:
        problems.append(f"layout at {width} px: the viewport was {vw} px")
    if measure["scroll_width"] > vw + 1:
        culprits = "; ".join(measure.get("overflow", [])[:3]) or "?"
        problems.append(f"layout at {width} px: the page is {measure['scroll_width']} px wide (scrolls sideways: "
                        f"{culprits})")
    wide = 0
    for t in measure["tables"]:
        box, cont = t["box"], t["container"]
        what = f"'{' '.join(t['text'].split())[:40]}'"
        if t["claims"]:
            if box["w"] > cont["w"] + 1:
                wide += 1
                problems.append(f"layout at {width} px: claims table {what} is {box['w']:.0f} px in {cont['w']:.0f} px")
            if t["verdict_right"] is not None and t["verdict_right"] > vw + 1:
                problems.append(f"layout at {width} px: claims table {what}: the verdict column is off-screen")
        elif not t["scrolls"] and box["w"] > cont["w"] + 1:
            wide += 1
            problems.append(f"layout at {width} px: table {what} is {box['w']:.0f} px in its {cont['w']:.0f} px container")
        if cont["x"] + cont["w"] > art["x"] + art["w"] + 1:
            wide += 1
            problems.append(f"layout at {width} px: table {what}'s box overflows the article")
    px = [v for v in (figure_text_px(i) for i in measure.get("images", [])) if v is not None]
    counts = {"tables": len(measure["tables"]), "wide_tables": wide,
              "min_figure_text_px": round(min(px), 1) if px else None, "dashboard_y": measure.get("dashboard_y")}
    if px and min(px) < FIGURE_MIN_PX:
        problems.append(f"layout at {width} px: figure text about {min(px):.1f} px (< {FIGURE_MIN_PX:g} px)")
    if intro and width >= DESKTOP_WIDTH:
        y = measure.get("dashboard_y")
        if y is None:
            problems.append("intro: no verdict dashboard on the page")
        elif y > FIRST_SCREEN_PX:
            problems.append(f"intro: the verdicts start at y = {y:.0f} px, below the first screen ({FIRST_SCREEN_PX} px)")
    return problems, counts


__all__ = ["DESKTOP_WIDTH", "FIGURE_MIN_PX", "FIRST_SCREEN_PX", "FRAME_PATH", "PHONE_WIDTH", "figure_text_px",
           "frame_html", "layout_problems", "parse_measure"]
