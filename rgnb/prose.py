"""Numbers typed in the chapters' prose, bound to the values the code configures or the stored ledger holds.

A :class:`Binding` is a phrase of a chapter's Markdown with ``{}`` where each number stands, and the
function that gives those numbers (a claims row's margin in the stored ledger, a sweep's config, a
tuning record, a default of a measure). :func:`problems` fills the phrase and looks for it in the
chapter's prose (white space collapsed): a stale number fails. Every other number of the prose (outside
math and code) that looks like a quantity (a decimal, a percentage, an integer of two digits or more)
must be covered by a binding or by a stated :data:`EXCEPTIONS` entry (a year, a version bound, a
threshold of an earlier protocol told as history), so a new number cannot be typed unbound.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path
from typing import Callable

from rgnb.layout import REPO_ROOT

BOOK_DIR = REPO_ROOT / "book"
RUN_DIR = BOOK_DIR / "_run"
#: Chapters whose prose is checked.
CHAPTERS = ("intro", "chain_spectra", "training", "rank_collapse", "selectivity", "kernel_drift", "robustness",
            "expfam_rg", "kernel_eft", "appendix")
#: A quantity-like number outside math and code: a decimal, an integer of two digits or more, or a percentage.
QUANTITY = re.compile(r"(?<![\w.\-/])(\d+\.\d+|\d{2,}|\d+(?=\s*%))(?![\w.]*\w)")


@dataclasses.dataclass(frozen=True)
class Binding:
    """``phrase`` (with one ``{}`` per number) of ``chapter``'s prose, filled by ``values()`` (formatted ``:g``).

    ``source`` says where the numbers come from (shown in a problem).
    """

    chapter: str
    phrase: str
    values: Callable[[], tuple]
    source: str

    def text(self) -> str:
        """The phrase with its numbers filled in, white space collapsed."""
        return _collapse(self.phrase.format(*(v if isinstance(v, str) else format(v, "g") for v in self.values())))


def _collapse(text: str) -> str:
    return " ".join(text.split())


def prose(chapter: str, book_dir: Path = BOOK_DIR) -> str:
    """The Markdown cells of ``book/<chapter>.py`` (jupytext percent format), joined, white space collapsed."""
    import jupytext

    notebook = jupytext.read(Path(book_dir) / f"{chapter}.py")
    return _collapse("\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"))


def ledger_margin(chapter: str, claim_id: str, run_dir: Path = RUN_DIR) -> float:
    """The registered margin of claim ``claim_id`` in the stored ledger ``<run_dir>/<chapter>.claims.json``."""
    rows = json.loads((Path(run_dir) / f"{chapter}.claims.json").read_text())["rows"]
    matches = [r["margin"] for r in rows if r.get("id") == claim_id]
    if len(matches) != 1:
        raise ValueError(f"claim {claim_id!r} must appear once in {chapter}'s ledger, found {len(matches)}")
    return float(matches[0])


def _default(function: Callable, name: str):
    return inspect.signature(function).parameters[name].default


def _percent(fraction: float) -> float:
    return round(100 * fraction, 10)


def _python_floor() -> str:
    """The lowest Python ``pyproject.toml`` accepts (its ``requires-python = ">=X.Y"``)."""
    found = re.search(r'^requires-python\s*=\s*">=\s*([0-9.]+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.M)
    if found is None:
        raise ValueError('pyproject.toml must state requires-python = ">=X.Y"')
    return found.group(1)


def bindings(run_dir: Path = RUN_DIR) -> tuple[Binding, ...]:
    """Every binding of :data:`CHAPTERS`; ledger values are read from ``run_dir``."""
    from rgnb import chains, metrics, stats
    from rgnb.claims.rule import ALPHA, LEVEL
    from rgnb.eft import chapter as eft_chapter
    from rgnb.eft import evidence as eft_evidence
    from rgnb.eft import registry as eft_registry
    from rgnb.eft.kernels import n_packed
    from rgnb.mlp import measure, sweeps, tuning
    from rgnb.mlp import registry as mlp_registry
    from rgnb.mlp import statistics as mlp_statistics

    def margin(chapter: str, claim_id: str, scale: float = 1.0):
        return lambda: (round(scale * ledger_margin(chapter, claim_id, run_dir), 10),)

    def const(*values):
        return lambda: values

    level = const(_percent(LEVEL))
    pcs = const(_percent(_default(metrics.pcs_for_variance, "fraction")))
    potts = sweeps.sweeps_for("reference")[sweeps.PAPER_FAMILY]
    history = tuning.load_tuning()
    python = const(_python_floor())
    rule, pc_source, ledger = "rgnb.claims.rule.LEVEL", "rgnb.metrics.pcs_for_variance's fraction", "ledger: claim "
    gate_excess, gate_share = margin("training", "training-gate-excess"), margin("training", "training-gate-share", 100)
    return (
        Binding("intro", "a {} % confidence interval", level, rule),
        Binding("intro", "every contrast's {} % CI beyond the margin", level, rule),
        Binding("intro", "Python >= {}", python, "pyproject.toml requires-python"),
        Binding("chain_spectra", "`rate = {}`, `span = {}`",
                const(chains.DEFAULT_MASK.rate, chains.DEFAULT_MASK.span), "rgnb.chains.DEFAULT_MASK"),
        Binding("chain_spectra", "$\\xi \\in [{}, {}]$", const(*chains.XI_RANGE), "rgnb.chains.XI_RANGE"),
        Binding("chain_spectra", "reported with its {}% CI", const(_percent(_default(chains.ratio_interval, "level"))),
                "rgnb.chains.ratio_interval's level"),
        Binding("training", "within **{} nats per masked token**", gate_excess, ledger + "training-gate-excess"),
        Binding("training", "the gate's {} nats", gate_excess, ledger + "training-gate-excess"),
        Binding("training", "at least **{} %**", gate_share, ledger + "training-gate-share"),
        Binding("training", "share of {} % would need", gate_share, ledger + "training-gate-share"),
        Binding("training", "Depth {}, width {}, batch {}", const(potts.depths[0], potts.width, potts.batch_size),
                "rgnb.mlp.sweeps, the reference potts sweep"),
        Binding("training", "still falling at {}", const(history.main_runs[0].budget),
                "results/tuning.json, the first main run"),
        Binding("training", "trains the main reading {} steps", const(sweeps.REFERENCE_STEPS),
                "rgnb.mlp.sweeps.REFERENCE_STEPS"),
        Binding("training", "trains {} steps: tuned the", const(sweeps.NO_LAYERNORM_STEPS),
                "rgnb.mlp.sweeps.NO_LAYERNORM_STEPS"),
        Binding("rank_collapse", "hold {} % of the variance", pcs, pc_source),
        Binding("rank_collapse", "PCs for {} %", pcs, pc_source),
        Binding("rank_collapse", "width {}, $T = {}$", const(potts.width, potts.seq_len),
                "rgnb.mlp.sweeps, the reference potts sweep"),
        Binding("rank_collapse", "a tolerance of {} % of the layer-1", const(_percent(mlp_statistics.MONOTONE_TOLERANCE)),
                "rgnb.mlp.statistics.MONOTONE_TOLERANCE"),
        Binding("rank_collapse", "tolerances from 0 to {} % of the layer-1",
                const(_percent(mlp_statistics.TOLERANCE_CURVE_MAX)), "rgnb.mlp.statistics.TOLERANCE_CURVE_MAX"),
        Binding("selectivity", "a {} % loss of the layer-1 dimension", const(_percent(mlp_registry.COLLAPSE_MARGIN)),
                "rgnb.mlp.registry.COLLAPSE_MARGIN"),
        Binding("selectivity", "exact sign-flip {} % intervals", level, rule),
        Binding("selectivity", "within {} nats of the full-rank probe", const(measure.TASK_DIM_TOL),
                "rgnb.mlp.measure.TASK_DIM_TOL"),
        Binding("selectivity", "Student-t {} % interval", const(_percent(_default(stats.mean_ci, "level"))),
                "rgnb.stats.mean_ci's level"),
        Binding("kernel_drift", "sign-flip {} % intervals", level, rule),
        Binding("kernel_drift", "initialised, above {} (about", const(mlp_registry.BY_ID["P1-iii-concentrated-v3"].margin),
                "rgnb.mlp.registry, claim P1-iii-concentrated-v3"),
        Binding("kernel_drift", "at least {} % of the largest drift", const(_percent(mlp_statistics.LIVE_FRACTION)),
                "rgnb.mlp.statistics.LIVE_FRACTION"),
        Binding("robustness", "PCs for {} % of the variance", pcs, pc_source),
        Binding("robustness", "were retrained (from {} to {} steps, tuned",
                const(history.no_layernorm_first_run.steps, sweeps.NO_LAYERNORM_STEPS),
                "results/tuning.json, the robustness reading's first run; rgnb.mlp.sweeps.NO_LAYERNORM_STEPS"),
        *_expfam_rg_bindings(stats),
        *_kernel_eft_bindings(eft_chapter.REFERENCE, eft_chapter.FULL, eft_evidence.TEST_TIMES, eft_registry,
                              n_packed, level, rule),
        Binding("appendix", "Python >= {}", python, "pyproject.toml requires-python"),
        Binding("appendix", "adjusted p is below {})", const(ALPHA), "rgnb.claims.rule.ALPHA"),
    )


def _expfam_rg_bindings(stats) -> tuple[Binding, ...]:
    """The expfam_rg chapter's numbers: the RSMI enumeration's size, the Gamma law, the exact maps' eigenvalues,
    the tables' t-interval level."""
    from rgnb import rg

    def const(*values):
        return lambda: values

    t_level = const(_percent(_default(stats.mean_ci, "level")))
    dec, bs = rg.EXACT_EIGENVALUES["decimation"], rg.EXACT_EIGENVALUES["block sum"]
    return (
        Binding("expfam_rg", "the maximisers over all {} non-constant", const(len(rg.COARSE_FUNCTIONS)),
                "rgnb.rg.ising.COARSE_FUNCTIONS"),
        Binding("expfam_rg", "exhausting the {} tables", const(len(rg.COARSE_FUNCTIONS)),
                "rgnb.rg.ising.COARSE_FUNCTIONS"),
        Binding("expfam_rg", "standardised Gamma({}) for the block-sum flow", const(rg.LAW_BY_NAME["gamma-iid"].param),
                "rgnb.rg.config.LAWS"),
        Binding("expfam_rg", "decimation (trivial fixed point: eigenvalue {}; critical: {}) and the block sum ({} and {})",
                const(dec["trivial"], dec["critical"], bs["trivial"], bs["critical"]),
                "rgnb.rg.theory.EXACT_EIGENVALUES"),
        Binding("expfam_rg", "(mean over seeds, {} % t-interval)", t_level, "rgnb.stats.mean_ci's level"),
        Binding("expfam_rg", "registered depth with {} % t-intervals", t_level, "rgnb.stats.mean_ci's level"),
    )


def _kernel_eft_bindings(ref, full, test_times, registry, n_packed, level, rule) -> tuple[Binding, ...]:
    """The kernel_eft chapter's numbers: its sizes per profile, the test times, the margins, the level."""
    def const(*values):
        return lambda: values

    sizes = "rgnb.eft.chapter.REFERENCE / FULL"
    times = const(*test_times)
    return (
        Binding("kernel_eft", "The GPU figures at $n$ = {}, {}, {} are in the last section", const(*full.bench_widths),
                "rgnb.eft.chapter.FULL.bench_widths"),
        Binding("kernel_eft", "spread over {} independent batches", const(ref.n_groups), sizes),
        Binding("kernel_eft", "(reference: $L$ = {}, {}, {} at $T = {}$", const(*ref.depths, ref.T), sizes),
        Binding("kernel_eft", "full: up to {})", const(full.depths[-1]), sizes),
        Binding("kernel_eft", "over the {} packed entries", const(n_packed(n_packed(3))), "entries of V4, k = 3"),
        Binding("kernel_eft", "scan ($\\sigma_w$ = {}, {}, {}, {}, {})", const(*sorted((1.0,) + ref.scan_sigma_w)),
                sizes + ".scan_sigma_w and the main tanh study"),
        Binding("kernel_eft", "times $t$ = {}, {}, {}, {}, {}", times, "rgnb.eft.evidence.TEST_TIMES"),
        Binding("kernel_eft", "some $t$ in {{{}, {}, {}, {}, {}}}", times, "rgnb.eft.evidence.TEST_TIMES"),
        Binding("kernel_eft", "up to $T$, now {})", const(ref.T), sizes),
        Binding("kernel_eft", "with its {} % CI", level, rule),
        Binding("kernel_eft", "the margins ({}, {}, {}) are",
                const(registry.K0_MARGIN, registry.V4_MARGIN, registry.TRANSPORT_MARGIN), "rgnb.eft.registry"),
        Binding("kernel_eft", "$L$ up to {}, $n$ up to {}, $T = {}$", const(full.depths[-1], full.widths[-1], full.T),
                sizes),
    )


#: Numbers of the prose that are no result of the book, each with why: (chapter, phrase, reason).
EXCEPTIONS = (
    ("intro", "three 2026 papers", "the papers' year"),
    ("kernel_drift", "plateau ratio below 0.5)", "history: the threshold of protocol v2, replaced by paired contrasts"),
    ("kernel_eft", "checked against 30-digit `mpmath` quadrature", "the precision of the tests' reference quadrature"),
    ("kernel_eft", 'tuned for "13 digits"', "history: the quadrature step used before the chapter's revision"),
    ("kernel_eft", "instead of 50 to 160 evaluations", "the finite differences' count of F evaluations per layer "
                                                      "(DF and D2F: 54; with the sigma closure's bilinear form: 160)"),
    ("kernel_eft", "- Issue 24 (after", "an issue number"),
    ("expfam_rg", "v2 → v3 (issue 23)", "an issue number"),
)


def _strip_math_and_code(text: str) -> str:
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text)
    text = re.sub(r"\$[^$]*\$", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def problems(chapter: str, chapter_bindings, book_dir: Path = BOOK_DIR,
             exceptions=EXCEPTIONS) -> list[str]:
    """What is wrong with one chapter's numbers: a bound phrase not in its prose (stale or reworded), or a
    quantity-like number outside math and code that no binding and no exception covers."""
    text = prose(chapter, book_dir)
    out = []
    rest = text
    for b in (b for b in chapter_bindings if b.chapter == chapter):
        expected = b.text()
        if expected not in text:
            out.append(f"{chapter}: the prose does not say {expected!r} ({b.source})")
        rest = rest.replace(expected, " ")
    for c, phrase, _ in exceptions:
        if c == chapter:
            rest = rest.replace(_collapse(phrase), " ")
    plain = _strip_math_and_code(rest)
    for m in QUANTITY.finditer(plain):
        out.append(f"{chapter}: the number {m.group(0)} is bound to no computed value: "
                   f"'...{plain[max(0, m.start() - 40):m.end() + 20]}...'")
    return out
