"""Backtest coverage of notebook 07's forecast on generated organisations (docs/predictable-revenue.md).

Generates one organisation per seed (``--months`` of history, ``--reps`` sellers), runs the forecast made at
every past month end from the seventh month on, and reports, per months ahead (1, 2, 3), the number of
forecasts n, the share of months whose actual bookings fell inside the 80% and 95% prediction intervals with a
Wilson 95% interval on each share, the mean absolute error against the naive forecast, and the side of the
misses (a biased forecast misses on one side, a too-narrow one on both). Seeds below ``--holdout-from`` are the
calibration seeds, the others held out (reported apart and never looked at while changing the model).

Each organisation's backtest is cached in ``--out`` (one CSV per org), so a long study can run in the
background and be resumed. Usage::

    .venv/bin/python benchmarks/predictable_revenue_coverage.py --seeds 1-9 --months 18 --reps 12
    nohup .venv/bin/python benchmarks/predictable_revenue_coverage.py --seeds 1-40 --holdout-from 21 \
        --months 36 --revenue-roles --out /tmp/pr_cov > /tmp/pr_cov.txt 2>&1 &
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analyses.predictable_revenue import model as M
from helpers.analyses.predictable_revenue import reductions as R
from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.core.intervals import wilson_interval
from helpers.data.engine import FolderSource
from helpers.data.sample import generate_org


def org_backtest(folder: Path, settings: M.PredictableRevenueSettings, simulations: int) -> pd.DataFrame:
    truth = json.loads((folder / "ground_truth.json").read_text())
    last = truth["generator"]["as_of"][:7]
    with FolderSource(folder) as source:
        deals = R.deal_book(source, settings.source_kinds)
    first = M.month_label(int(M._month_of(deals["created_at"]).min()))
    bookings = M.monthly_bookings(deals, first=first, last=last)
    return M.backtest(deals, bookings, first_origin=M.month_label(M.month_index(first) + settings.min_train_months),
                      last_month=last, horizon=settings.horizon_months, history=settings.forecast_history_months,
                      rate_window=settings.rate_window_months, simulations=simulations, seed=settings.seed,
                      season_min_months=settings.season_min_months)


def coverage_study(seeds: list[int], *, months: int, reps: int, simulations: int = 1000,
                   revenue_roles: bool = False, cache: Path | None = None,
                   settings: M.PredictableRevenueSettings | None = None) -> pd.DataFrame:
    """One backtest per seed's organisation, stacked (column ``seed``); cached per org when ``cache`` is given."""
    settings = settings or M.PredictableRevenueSettings.from_config(load_config(DEFAULTS_FILE))
    frames = []
    for seed in seeds:  # one organisation per seed
        path = cache / f"seed{seed}_m{months}_r{reps}_{'roles' if revenue_roles else 'plain'}.csv" if cache else None
        if path is not None and path.exists():
            frames.append(pd.read_csv(path))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            generate_org(tmp, seed=seed, reps=reps, months=months, revenue_roles=revenue_roles)
            bt = org_backtest(Path(tmp), settings, simulations).assign(seed=seed)
        if path is not None:
            bt.to_csv(path, index=False)
        frames.append(bt)
    return pd.concat(frames, ignore_index=True)


def coverage_table(bt: pd.DataFrame) -> pd.DataFrame:
    """Per months ahead: n, coverage of the 80% and 95% intervals with Wilson 95% intervals, MAE vs naive, misses."""
    rows = []
    for h, g in bt.groupby("months_ahead"):
        n = len(g)
        c80, c95 = int(g["in_80"].sum()), int(g["in_95"].sum())
        l80, h80 = wilson_interval(c80, n, level=0.95)
        l95, h95 = wilson_interval(c95, n, level=0.95)
        mae = float((g["forecast"] - g["actual"]).abs().mean())
        mae_naive = float((g["naive"] - g["actual"]).abs().mean())
        rows.append({"months_ahead": int(h), "orgs": int(g["seed"].nunique()), "n": n,
                     "cov80": c80 / n, "cov80_low": float(l80), "cov80_high": float(h80),
                     "cov95": c95 / n, "cov95_low": float(l95), "cov95_high": float(h95),
                     "above_80": float((g["actual"] > g["high_80"]).mean()),
                     "below_80": float((g["actual"] < g["low_80"]).mean()),
                     "mae": mae, "mae_naive": mae_naive, "skill": 1 - mae / mae_naive if mae_naive > 0 else np.nan})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, label: str) -> str:
    """Rows for the docs' coverage table."""
    out = []
    for r in table.itertuples():
        skill = f"{abs(r.skill):.0%} {'better' if r.skill >= 0 else 'worse'}"
        out.append(f"| {label} | {r.months_ahead} | {r.n} | {r.cov80:.1%} ({r.cov80_low:.1%}-{r.cov80_high:.1%}) | "
                   f"{r.cov95:.1%} ({r.cov95_low:.1%}-{r.cov95_high:.1%}) | {r.above_80:.1%} / {r.below_80:.1%} | "
                   f"{skill} |")
    return "\n".join(out)


def _seeds(text: list[str]) -> list[int]:
    out: list[int] = []
    for t in text:
        lo, _, hi = t.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", default=["1-9"], help="seeds or ranges (1-20)")
    ap.add_argument("--holdout-from", type=int, default=None, help="seeds from this one on are held out")
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--simulations", type=int, default=1000)
    ap.add_argument("--revenue-roles", action="store_true",
                    help="organisations with roles, lead kinds, a lead-load effect and seasonality planted")
    ap.add_argument("--out", type=Path, default=None, help="folder for per-org backtests (cache) and the summary")
    args = ap.parse_args()
    seeds = _seeds(args.seeds)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    bt = coverage_study(seeds, months=args.months, reps=args.reps, simulations=args.simulations,
                        revenue_roles=args.revenue_roles, cache=args.out)
    pd.set_option("display.width", 220)
    kind = f"{'revenue-roles' if args.revenue_roles else 'plain'}, {args.months} months, {args.reps} reps"
    groups = {"all seeds": bt}
    if args.holdout_from is not None:
        groups = {"calibration": bt[bt["seed"] < args.holdout_from], "held out": bt[bt["seed"] >= args.holdout_from],
                  "all seeds": bt}
    lines = []
    for name, g in groups.items():
        if g.empty:
            continue
        table = coverage_table(g)
        seeds_txt = f"seeds {g['seed'].min()}-{g['seed'].max()}"
        print(f"== {name} ({seeds_txt}; {kind})")
        print(table.round(3).to_string(index=False))
        lines.append(markdown(table, f"{name}, {seeds_txt} ({kind})"))
    print("\n".join(lines))
    if args.out:
        (args.out / "summary.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
