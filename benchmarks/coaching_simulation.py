"""Simulation study of the weak-stage rule (notebook 03): false-flag rate and recall over generated orgs.

Generates organisations with ``helpers.data.sample.generate_org`` -- with no planted weak stage
(``weak_stages=False``, every flag is false) and with planted weak stages -- over several seeds and
team sizes (24, 40, 60 reps: the segments hold different numbers of reps, so the segment mix
differs), counts each org's funnel in the engine, and judges every rep with
``WeakStageModel`` under the default settings and the alternatives the defaults were chosen over.

* false-flag rate = reps flagged at any stage / reps with no planted weakness (judged reps, >= 2 stages);
* recall = planted weak reps flagged at their planted stage / planted weak reps.

    .venv/bin/python benchmarks/coaching_simulation.py            # 5 seeds x 3 sizes x null/planted
    .venv/bin/python benchmarks/coaching_simulation.py --seeds 2  # quicker

The figures are written in docs/funnel-coaching.md ("Measured: false flags and recall").
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from helpers.analyses.coaching.model import WeakStageModel, month_window
from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.data.engine import open_source
from helpers.data.reductions import last_complete_month, rep_month_funnel
from helpers.data.sample import generate_org

#: (label, peer groups, evidence months, min reps per peer group)
VARIANTS = (("team, 6 months (old default)", "none", 6, 8),
            ("segment, 6 months", "segment", 6, 4),
            ("segment, 12 months (default)", "segment", 12, 4))


def org_funnels(root: Path, *, seeds, sizes, months: int = 14) -> list[dict]:
    """Generate (or reuse) the orgs under ``root``; one dict per org with its funnel and truth."""
    config = load_config(DEFAULTS_FILE)
    out = []
    for seed in seeds:
        for reps in sizes:
            for weak in (False, True):
                path = root / f"s{seed}_r{reps}_{'planted' if weak else 'null'}"
                if not (path / "ground_truth.json").exists():
                    generate_org(path, seed=seed, reps=reps, months=months, weak_stages=weak)
                src = open_source(data_dir=path)
                truth = json.loads((path / "ground_truth.json").read_text())
                month = str(last_complete_month(src))[:7]
                funnel = rep_month_funnel(src, config)
                seg = src.read("reps", columns=["rep_id", "segment"])
                src.close()
                out.append({"org": path.name, "null": not weak, "funnel": funnel, "month": month,
                            "segments": dict(zip(seg["rep_id"], seg["segment"])),
                            "planted": truth["funnel"]["weak_stage_reps"]})
    return out


def study(orgs: list[dict], variants=VARIANTS) -> pd.DataFrame:
    """One row per variant: false flags on null orgs, on planted orgs' other reps, and recall."""
    rows = []
    for label, peers, months, min_group in variants:
        tally = dict(null_flagged=0, null_reps=0, other_flagged=0, other_reps=0, found=0, planted=0)
        for org in orgs:
            model = WeakStageModel(min_group_reps=min_group).fit(
                org["funnel"], months=month_window(org["month"], months),
                peer_groups=org["segments"] if peers == "segment" else None)
            flags = model.flags_[model.flags_["stages_judged"] >= 2].set_index("rep_id")["weak_stage"]
            for rep, stage in flags.items():
                if rep in org["planted"]:
                    tally["planted"] += 1
                    tally["found"] += int(stage == org["planted"][rep])
                else:
                    key = "null" if org["null"] else "other"
                    tally[f"{key}_reps"] += 1
                    tally[f"{key}_flagged"] += int(isinstance(stage, str))
        rows.append({"variant": label, **tally,
                     "false_flag_rate_null": tally["null_flagged"] / max(tally["null_reps"], 1),
                     "false_flag_rate_planted_orgs": tally["other_flagged"] / max(tally["other_reps"], 1),
                     "recall": tally["found"] / max(tally["planted"], 1)})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The study as a Markdown table (as docs/funnel-coaching.md shows it)."""
    lines = ["| variant | false flags, null orgs | false flags, planted orgs' other reps | recall |", "|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.variant} | {r.null_flagged} of {r.null_reps} ({r.false_flag_rate_null:.1%}) | "
                     f"{r.other_flagged} of {r.other_reps} ({r.false_flag_rate_planted_orgs:.1%}) | "
                     f"{r.found} of {r.planted} ({r.recall:.1%}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="how many seeds (of 2, 7, 17, 23, 31)")
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep the generated orgs in")
    args = ap.parse_args(argv)
    seeds = (2, 7, 17, 23, 31)[: args.seeds]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.cache or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        table = study(org_funnels(root, seeds=seeds, sizes=(24, 40, 60)))
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
