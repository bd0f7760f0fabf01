"""The scan's per-shape summaries and figure (rgnb.mlp.scan) on synthetic measurements with known answers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rgnb.mlp import paired, scan, sweeps

SEEDS = (0, 1, 2)
XIS = (1.0, 7.0)


def _shape(depth: int, vocab: int, top: float = 10.0) -> paired.ShapeMeasurements:
    """erank falls linearly from ``top`` (l = 1) to top / 2 (l = L) when trained, rises at initialisation; the
    drift is concentrated in two transitions when trained, uniform at initialisation; PCs for 90 % = V - 1."""
    L, n = depth, len(SEEDS)
    l = np.arange(L + 1, dtype=float)
    fall = np.where(l == 0, 0.0, top - (top / 2) * (l - 1) / (L - 1))
    rise = np.where(l == 0, 0.0, top + l)
    jitter = np.array([-0.1, 0.0, 0.1])[:, None]  # per seed
    drift_t = np.full(L, 0.01)
    drift_t[1:3] = [0.5, 0.3][: len(drift_t[1:3])]
    values = {}
    for arm, prof, drift in (("chain-trained", fall, drift_t), ("chain-init", rise, np.full(L, 0.1)),
                             ("shuffled-trained", fall, np.full(L, 0.05))):
        p = np.broadcast_to(prof + jitter, (len(XIS), n, L + 1)).copy()
        p[..., 0] = 0.0
        values[arm] = {"erank_ln": p, "pc90_ln": np.full((len(XIS), n, L + 1), vocab - 1.0),
                       "drift": np.broadcast_to(drift, (len(XIS), n, L)).copy()}
    return paired.ShapeMeasurements(sweeps.ScanShape(depth, vocab), XIS, SEEDS, values)


@pytest.fixture
def measured():
    shapes = [(4, 8), (8, 8), (16, 8), (8, 4), (8, 16), (2, 8)]
    return {sweeps.ScanShape(L, V): _shape(L, V) for L, V in shapes}


def test_scan_points_are_the_seed_means_of_each_statistic(measured):
    pts = scan.scan_points(measured, "log_c", 1.0)
    assert len(pts) == 6 * 3
    by = {(p.shape, p.arm): p.interval for p in pts}
    for shape, m in measured.items():
        expect = np.log(m.get("chain-trained", "erank_ln", 1.0)[:, -1] / m.get("chain-trained", "erank_ln", 1.0)[:, 1])
        assert by[(shape, "chain-trained")].estimate == pytest.approx(expect.mean())
        assert by[(shape, "chain-trained")].low < by[(shape, "chain-trained")].estimate
    v = {(p.shape, p.arm): p.interval.estimate for p in scan.scan_points(measured, "violation", 7.0)}
    assert v[(sweeps.ScanShape(8, 8), "chain-trained")] == 0.0  # a falling profile: no violation
    assert v[(sweeps.ScanShape(8, 8), "chain-init")] > 0.5  # a rising one: large
    b = {p.arm: p.interval.estimate for p in scan.scan_points(measured, "bulk", 1.0) if p.shape.vocab_size == 16}
    assert b == {"chain-trained": 0.0, "chain-init": 0.0, "shuffled-trained": 0.0}


def test_drift_statistics_leave_out_shapes_too_shallow_for_a_plateau(measured):
    for key in ("top2", "live", "log_plateau"):
        shapes = {p.shape for p in scan.scan_points(measured, key, 1.0)}
        assert sweeps.ScanShape(2, 8) not in shapes and len(shapes) == 5, key
    assert sweeps.ScanShape(2, 8) in {p.shape for p in scan.scan_points(measured, "log_c", 1.0)}
    top2 = {p.arm: p.interval.estimate for p in scan.scan_points(measured, "top2", 1.0)
            if p.shape == sweeps.ScanShape(8, 8)}
    assert top2["chain-trained"] == pytest.approx(0.8 / (0.8 + 5 * 0.01))
    assert top2["chain-init"] == pytest.approx(2 / 7)


def test_series_run_along_depth_at_the_main_vocabulary_and_along_vocabulary_at_the_main_depth(measured):
    main = sweeps.ScanShape(8, 8)
    pts = scan.scan_points(measured, "erank_1", 1.0, arms=("chain-trained",))
    x, ivs = scan.series(pts, "chain-trained", "depth", main)
    assert x.tolist() == [2, 4, 8, 16] and len(ivs) == 4
    x, _ = scan.series(pts, "chain-trained", "vocab", main)
    assert x.tolist() == [4, 8, 16]
    with pytest.raises(ValueError, match="along"):
        scan.series(pts, "chain-trained", "width", main)


def test_bad_statistic_or_arm_is_refused(measured):
    with pytest.raises(ValueError, match="statistic"):
        scan.scan_points(measured, "erank", 1.0)
    with pytest.raises(ValueError, match="arm"):
        scan.scan_points(measured, "log_c", 1.0, arms=("trained",))


def test_draw_scan_has_a_row_per_statistic_and_a_legend_per_arm(measured):
    fig = scan.draw_scan(measured, (("violation", 1.0), ("log_plateau", 7.0)), sweeps.ScanShape(8, 8))
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["4", "8", "16"]  # no depth-2 plateau
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [scan.ARM_STYLE[a][0] for a in paired.ARMS]
    matplotlib.pyplot.close(fig)


def test_scan_shapes_and_profiles_follow_depth_and_vocabulary(measured):
    main = sweeps.ScanShape(8, 8)
    assert [s.depth for s in scan.scan_shapes(measured, main, "depth")] == [2, 4, 8, 16]
    assert [s.vocab_size for s in scan.scan_shapes(measured, main, "vocab")] == [4, 8, 16]
    shapes = scan.scan_shapes(measured, main, "vocab")
    fig, grid = scan.draw_profiles(measured, (("drift", "1 - CKA"), ("erank_ln", "erank")), 1.0, shapes, log=True)
    assert grid.shape == (2, 3) and len(fig.get_axes()) == 6
    axes = grid[0]
    assert [a.get_title() for a in axes] == ["L = 8, V = 4", "L = 8, V = 8", "L = 8, V = 16"]
    assert grid[1][0].get_lines()[0].get_xdata().tolist() == list(range(1, 9))  # layers 1 .. 8
    line = axes[0].get_lines()[paired.ARMS.index("chain-trained")]  # transitions transitions 1 -> 2 .. 7 -> 8, the embedding's 0 -> 1 left out
    assert line.get_xdata().tolist() == list(range(1, 8))
    np.testing.assert_allclose(line.get_ydata(), measured[shapes[0]].get("chain-trained", "drift", 1.0)[0, 1:])
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="shapes"):
        scan.draw_profiles(measured, (("erank_ln", "erank"),), 1.0, [])


def test_xi_series_runs_over_the_shape_s_chains(measured):
    m = measured[sweeps.ScanShape(8, 8)]
    xis, ivs = scan.xi_series(m, "log_c", "shuffled-trained")
    assert xis.tolist() == [1.0, 7.0]
    expect = np.log(m.get("shuffled-trained", "erank_ln", 7.0)[:, -1] / m.get("shuffled-trained", "erank_ln", 7.0)[:, 1])
    assert ivs[1].estimate == pytest.approx(expect.mean())
    with pytest.raises(ValueError, match="arm"):
        scan.xi_series(m, "log_c", "shuffled")


def test_every_shipped_scan_network_passed_the_gate_when_shipped():
    """The scan's shipped sweeps (their manifest's CPU evaluation, which loading re-checks on this machine) pass
    the convergence gate, network by network: the premise of every v3 row that pools or sub-rows them."""
    from rgnb.mlp import gate, shipped

    manifest = shipped.shipped_manifest("reference")
    scan = sweeps.scan_sweeps_for("reference")
    present = [f for f in scan if f in manifest["sweeps"]]
    assert present == list(scan), present  # all eight shipped
    for family in present:
        record = manifest["sweeps"][family]["cpu_evaluation"]
        loss, floor = np.asarray(record["final_loss"]), np.asarray(record["bayes_floor"])
        share = gate.recovered_share(loss, floor, scan[family].vocab_size)
        assert loss.shape == (len(manifest["sweeps"][family]["members"]),)
        assert gate.gate_passes(loss - floor, share).all(), (family, float((loss - floor).max()))
