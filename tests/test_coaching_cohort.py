"""Notebook 03's cohort counts (issue 19): a lead counts at a stage only once its outcome is known, and each
rep is compared with what the other reps convert on the same kind of leads. Numbers worked out by hand on
tiny tables."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.analyses.coaching.model import (
    CoachingError,
    CoachingSettings,
    WeakStageModel,
    fit_weak_stages,
    mix_expected_rates,
    pooled_counts,
)
from helpers.core.config import DEFAULTS_FILE, ConfigError, load_config
from helpers.data.engine import open_source
from helpers.data.reductions import maturity_days_from, rep_cohort_funnel, stage_time_histogram

CONFIG = load_config(DEFAULTS_FILE)
ACT_HEADER = "activity_id,rep_id,lead_id,occurred_at,activity_type,outcome,meeting_kind\n"
LEAD_HEADER = "lead_id,created_at,source,lead_type,segment,first_offer,owner_rep_id\n"
DEAL_HEADER = "deal_id,lead_id,rep_id,created_at,closed_at,status,mrr\n"

ACTS = ACT_HEADER + (
    "a1,R1,L1,2024-01-02T09:00:00Z,call,no_answer,\n"    # L1 attempted
    "a2,R1,L1,2024-01-05T09:00:00Z,call,connected,\n"    # ... connected 3 days later
    "a3,R1,L1,2024-01-20T09:00:00Z,call,connected,\n"    # a second connect: only the first counts
    "a4,R1,L2,2024-01-03T09:00:00Z,call,no_answer,\n"    # L2 attempted
    "a5,R1,L2,2024-01-13T09:00:00Z,call,connected,\n"    # ... connected 10 days later
    "a6,R1,L3,2024-01-10T09:00:00Z,call,no_answer,\n"    # L3 attempted, never connected (mature: a failure)
    "a7,R1,L4,2024-03-29T09:00:00Z,call,no_answer,\n"    # L4 attempted 3 days before the end: still in cadence
    "a8,R1,L5,2024-03-30T09:00:00Z,call,no_answer,\n"    # L5 attempted 2 days before the end ...
    "a9,R1,L5,2024-03-31T09:00:00Z,call,connected,\n"    # ... and connected at once (as young as L4: left out)
    "b1,R2,L6,2024-02-01T09:00:00Z,call,no_answer,\n"    # L6 attempted by R2 ...
    "b2,R1,L6,2024-02-02T09:00:00Z,call,connected,\n"    # ... connected by R1: the step is R2's
    "b3,R1,L7,2024-04-02T09:00:00Z,call,connected,\n"    # after the end: not seen
)
LEADS = LEAD_HEADER + (
    "L1,2024-01-01T09:00:00Z,paid_search,net,small_business,demo_request,R1\n"
    "L2,2024-01-01T09:00:00Z,referral,seed,enterprise,demo_request,R1\n"
    "L4,2024-03-01T09:00:00Z,paid_search,net,small_business,demo_request,R1\n"
    "L5,2024-03-01T09:00:00Z,paid_search,net,small_business,demo_request,R1\n"
    "L6,2024-01-01T09:00:00Z,paid_search,net,small_business,demo_request,R2\n"
)
DEALS = DEAL_HEADER + "D1,L1,R1,2024-01-10T09:00:00Z,2024-02-10T09:00:00Z,won,100\n"


def _source(tmp_path: Path, **tables: str):
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    return open_source(data_dir=data)


@pytest.fixture
def source(tmp_path: Path):
    src = _source(tmp_path, activities=ACTS, leads=LEADS, deals=DEALS)
    yield src
    src.close()


def test_step_times_and_maturity_from_the_converters(source) -> None:
    hist = stage_time_histogram(source, CONFIG, end="2024-04-01")
    connected = hist[hist["stage"] == "connected"].set_index("days")["leads"].to_dict()
    assert connected == {1: 2, 3: 1, 10: 1}  # L5 and L6 in a day, L1 in 3 (first connect), L2 in 10; L7 is later
    maturity = maturity_days_from(hist, quantile=0.9, stages=["connected", "discovery", "demo", "won"])
    assert maturity["connected"] == 10.0  # 90% of 4 converters: the 4th
    assert maturity_days_from(hist, quantile=0.5)["connected"] == 1.0
    assert maturity["discovery"] == 90.0  # nobody had a discovery meeting: the default


def test_cohort_counts_leave_out_leads_still_in_their_cadence(source) -> None:
    cohort = rep_cohort_funnel(source, CONFIG, end="2024-04-01")
    conn = cohort[cohort["stage"] == "connected"]
    assert set(conn["maturity_days"]) == {10.0}
    by_rep_month = conn.groupby(["rep_id", "month"])[["n", "k"]].sum()
    # R1's January cohort: L1 and L2 connected, L3 not (mature); L4 and L5 (March, younger than 10 days) left out
    assert by_rep_month.loc[("R1", "2024-01")].tolist() == [3, 2]
    assert ("R1", "2024-03") not in by_rep_month.index
    assert by_rep_month.loc[("R2", "2024-02")].tolist() == [1, 1]  # the rep who took L6 to the previous stage
    # lead mix from the leads table; L3 is not in it: its cell is empty (kept, not dropped)
    cells = conn[conn["rep_id"] == "R1"].set_index(["segment", "lead_source"], drop=False)
    assert cells.loc[("small_business", "paid_search"), ["n", "k"]].tolist() == [1, 1]
    assert cells.loc[("enterprise", "referral"), ["n", "k"]].tolist() == [1, 1]
    assert conn.loc[conn["segment"].isna(), ["n", "k"]].sum().tolist() == [1, 0]
    # a shorter maturity time lets L4 in (3 days old) as a failure; L5 (2 days) still out
    short = rep_cohort_funnel(source, CONFIG, end="2024-04-01", maturity_days=2.5)
    march = short[(short["stage"] == "connected") & (short["month"] == "2024-03")]
    assert march[["n", "k"]].sum().tolist() == [1, 0]
    # the window: only cohorts from the start month on
    assert rep_cohort_funnel(source, CONFIG, end="2024-04-01", start="2024-02")["month"].min() >= "2024-02"


def test_cohort_counts_without_leads_table_have_no_mix(tmp_path: Path) -> None:
    src = _source(tmp_path, activities=ACTS, deals=DEALS)
    cohort = rep_cohort_funnel(src, CONFIG, end="2024-04-01")
    src.close()
    assert cohort["segment"].isna().all() and cohort["lead_source"].isna().all()
    assert cohort.loc[cohort["stage"] == "connected", "n"].sum() == 4


def test_expected_rate_by_indirect_standardisation_by_hand() -> None:
    rows = [("a", "A", 100, 50), ("b", "A", 100, 30), ("b", "B", 100, 10), ("c", "B", 100, 20)]
    cohort = pd.DataFrame([{"rep_id": r, "month": "2024-01", "stage_order": 2, "stage": "s", "segment": seg,
                            "lead_source": None, "n": n, "k": k} for r, seg, n, k in rows])
    exp = mix_expected_rates(cohort, ["2024-01"], prior_leads=20).set_index("rep_id")["expected_rate"]
    team_without_a = (60 + 0.5) / (300 + 1)  # the other reps' leads at the stage
    assert exp["a"] == pytest.approx((30 + 20 * team_without_a) / (100 + 20))  # b's segment-A rate, shrunk
    team_without_b = (70 + 0.5) / (200 + 1)
    a_seg = (50 + 20 * team_without_b) / (100 + 20)
    c_seg = (20 + 20 * team_without_b) / (100 + 20)
    assert exp["b"] == pytest.approx((100 * a_seg + 100 * c_seg) / 200)  # weighted by b's own mix
    # the empty lead_source column is ignored; with no column at all: the other reps' pooled rate
    bare = mix_expected_rates(cohort.drop(columns=["segment"]), ["2024-01"]).set_index("rep_id")["expected_rate"]
    assert bare["a"] == pytest.approx(team_without_a)


def _cohort_team(seed: int, *, reps: int = 24, hard_reps: int = 4, weak: str | None = None):
    """A cohort table where every rep works a mix of enterprise (connect 22%) and small-business (40%) leads:
    ``hard_reps`` reps 90% enterprise leads, the others 10%; nobody is weak (``weak``: that rep's demo stage
    halved). Reps carry no segment: only the leads tell the mix."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(reps):
        rep = f"r{r:02d}"
        share = 0.9 if r < hard_reps else 0.1
        skill = np.exp(rng.normal(0, 0.08))
        for month in (f"2025-{m:02d}" for m in range(1, 13)):
            for seg, connect in (("enterprise", 0.22), ("small_business", 0.40)):
                n1 = int(rng.poisson(150 * (share if seg == "enterprise" else 1 - share)))
                previous = n1
                for order, (stage, p) in enumerate((("connected", connect), ("demo", 0.45), ("won", 0.3)), start=2):
                    rate = p * skill * (0.5 if (rep == weak and stage == "demo") else 1.0)
                    k = int(rng.binomial(previous, min(rate, 0.95)))
                    rows.append({"rep_id": rep, "month": month, "stage_order": order, "stage": stage, "segment": seg,
                                 "lead_source": "web", "n": previous, "k": k})
                    previous = k
    return pd.DataFrame(rows), [f"2025-{m:02d}" for m in range(1, 13)]


def test_lead_mix_comparison_keeps_reps_with_many_hard_leads_unflagged() -> None:
    """Another truth than the sample: reps' lead mixes differ (4 of 24 reps work 90% enterprise leads, which
    connect at 22% against 40%), nobody is weak and reps carry no segment. Against the whole team, the reps
    with hard leads look weak at connect; against the rate the other reps reach on the same mix, at most 5%
    of reps are flagged."""
    settings = CoachingSettings()
    flagged_mix = flagged_team = judged = 0
    for seed in range(4):
        cohort, months = _cohort_team(seed)
        mix, text = fit_weak_stages(cohort, months=months, settings=settings)
        assert "same segment and lead source" in text
        team, text_team = fit_weak_stages(cohort, months=months,
                                          settings=CoachingSettings(peer_groups="none"))
        assert text_team == "Each rep is compared with the whole team."
        flagged_mix += int(mix.flags_["flagged"].sum())
        flagged_team += int(team.flags_["flagged"].sum())
        judged += int((mix.flags_["stages_judged"] >= 2).sum())
    assert judged == 96
    assert flagged_mix <= 0.05 * judged, flagged_mix
    assert flagged_team > 3 * max(flagged_mix, 1), (flagged_team, flagged_mix)


def test_lead_mix_comparison_still_finds_a_halved_stage() -> None:
    """A rep with hard leads (90% enterprise) whose demo stage is halved is found on four teams; the other
    reps are flagged at most at the designed 5%."""
    others = 0
    for seed in range(4):
        cohort, months = _cohort_team(seed, weak="r03")
        model, _ = fit_weak_stages(cohort, months=months, settings=CoachingSettings())
        flags = model.flags_.set_index("rep_id")
        assert flags.loc["r03", "weak_stage"] == "demo", seed
        others += int(flags["flagged"].drop("r03").sum())
    assert others <= 0.05 * 4 * 23, others


def test_comparison_falls_back_when_columns_are_missing() -> None:
    cohort, months = _cohort_team(1)
    segs = {f"r{i:02d}": ("enterprise" if i < 12 else "small_business") for i in range(24)}
    no_mix = cohort.assign(segment=None, lead_source=None)
    # lead mix asked, leads carry nothing, reps carry a segment: the rep's segment becomes the lead's cell
    _, text = fit_weak_stages(no_mix, months=months, settings=CoachingSettings(), rep_segments=segs)
    assert "(the rep's own segment; the leads carry no segment or lead source)" in text
    _, text = fit_weak_stages(no_mix, months=months, settings=CoachingSettings())
    assert text.startswith("Each rep is compared with the whole team (the data carry no")
    flows = pd.DataFrame({"rep_id": ["a"], "month": ["2025-01"], "stage_order": [1], "stage": ["attempted"],
                          "stage_label": ["x"], "leads": [3], "previous_stage_leads": pd.array([None], "Int64"),
                          "conversion_rate": [np.nan]})
    _, text = fit_weak_stages(flows, months=["2025-01"], settings=CoachingSettings(), rep_segments={"a": "smb"})
    assert text.startswith("Each rep is compared with the reps of their own segment (the leads carry no")
    _, text = fit_weak_stages(no_mix, months=months, settings=CoachingSettings(peer_groups="segment"),
                              rep_segments=segs)
    assert text.startswith("Each rep is compared with the reps of their own segment;")


def test_cohort_table_is_checked() -> None:
    bad = pd.DataFrame({"rep_id": ["a"], "month": ["2025-01"], "stage_order": [2], "stage": ["s"], "n": [3], "k": [4]})
    with pytest.raises(CoachingError, match="k > n"):
        pooled_counts(bad, ["2025-01"])
    with pytest.raises(CoachingError, match="lacks column"):
        WeakStageModel().fit(bad.drop(columns=["month"]).assign(k=1, n=3), months=["2025-01"])


def test_settings_validate_the_new_keys(tmp_path: Path) -> None:
    defaults = CoachingSettings.from_config(CONFIG)
    assert (defaults.peer_groups, defaults.counts, defaults.maturity_days, defaults.maturity_quantile) == (
        "lead_mix", "cohort", 0.0, 0.9)
    for bad in ('peer_groups = "rep"', 'counts = "weekly"', "maturity_days = -1", "maturity_quantile = 1.5"):
        path = tmp_path / "workbook.toml"
        path.write_text(f"[coaching]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="coaching"):
            CoachingSettings.from_config(load_config(path))


def test_no_mature_lead_yet_gives_no_flag_not_an_error(source) -> None:
    """Data so recent that no lead has matured: an empty cohort table, no rep judged, an empty heatmap."""
    from helpers.analyses.coaching.model import team_heatmap

    cohort = rep_cohort_funnel(source, CONFIG, end="2024-01-04", maturity_days=30)
    assert cohort.empty and list(cohort.columns)[-3:] == ["n", "k", "maturity_days"]
    model, _ = fit_weak_stages(cohort, months=["2024-01"], settings=CoachingSettings(), rep_segments={"R1": "smb"})
    assert model.flags_.empty and model.summary.empty
    assert team_heatmap(model).empty
