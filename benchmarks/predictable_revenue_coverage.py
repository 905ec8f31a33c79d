"""Backtest coverage of notebook 07's forecast on generated organisations (docs/predictable-revenue.md).

Generates one organisation per seed (``--months`` of history, ``--reps`` sellers), runs the forecast made at
every past month end from the seventh month on, and prints the share of months whose actual bookings fell
inside the 80% and 95% prediction intervals (1, 2 and 3 months ahead), pooled over the seeds, with the
mean absolute error against the naive forecast. Usage::

    .venv/bin/python benchmarks/predictable_revenue_coverage.py --seeds 1 2 3 4 --months 18 --reps 12
    .venv/bin/python benchmarks/predictable_revenue_coverage.py --seeds 1 2 3 --revenue-roles
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from helpers.analyses.predictable_revenue import model as M
from helpers.analyses.predictable_revenue import reductions as R
from helpers.core.config import DEFAULTS_FILE, load_config
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
                      rate_window=settings.rate_window_months, simulations=simulations, seed=settings.seed)


def coverage_study(seeds: list[int], *, months: int, reps: int, simulations: int = 1000,
                   revenue_roles: bool = False) -> pd.DataFrame:
    settings = M.PredictableRevenueSettings.from_config(load_config(DEFAULTS_FILE))
    frames = []
    for seed in seeds:  # one organisation per seed
        with tempfile.TemporaryDirectory() as tmp:
            generate_org(tmp, seed=seed, reps=reps, months=months, revenue_roles=revenue_roles)
            frames.append(org_backtest(Path(tmp), settings, simulations).assign(seed=seed))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--months", type=int, default=18)
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--simulations", type=int, default=1000)
    ap.add_argument("--revenue-roles", action="store_true",
                    help="organisations with roles, lead kinds, a lead-load effect and seasonality planted")
    args = ap.parse_args()
    bt = coverage_study(args.seeds, months=args.months, reps=args.reps, simulations=args.simulations,
                        revenue_roles=args.revenue_roles)
    pd.set_option("display.width", 200)
    print(M.backtest_summary(bt).round(3).to_string(index=False))
    print(bt.groupby("seed")[["in_80", "in_95"]].mean().round(2).to_string())
    # which side the misses fall on: a biased forecast misses on one side, a narrow one on both
    side = bt.assign(above_80=bt["actual"] > bt["high_80"], below_80=bt["actual"] < bt["low_80"])
    print(side.groupby("months_ahead")[["above_80", "below_80"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
