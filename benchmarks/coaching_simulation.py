"""Simulation study of the weak-stage rule (notebook 03): false-flag rate and recall over generated orgs.

Generates organisations with ``helpers.data.sample.generate_org`` -- with no planted weak stage
(``weak_stages=False``, every flag is false) and with planted weak stages -- over several seeds and
team sizes (24, 40, 60 reps: the segments hold different numbers of reps, so the segment mix
differs), and with ``--other-truths`` the generator's other truths (segments with different cadences,
with and without weak stages; no effect anywhere; weak stages only in old leads; 30 and 50 reps).
Reduces each org in the engine (flow counts and cohort counts as known at the end of the last complete
month) and judges every rep through ``fit_weak_stages`` (as the page does) under the default settings
(cohorts, lead mix, 12 months) and the alternatives the defaults were chosen over.

* false-flag rate = reps flagged at any stage / reps with no planted weakness (judged reps, >= 2 stages);
* recall = planted weak reps flagged at their planted stage / planted weak reps.

    .venv/bin/python benchmarks/coaching_simulation.py            # 5 seeds x 3 sizes x null/planted
    .venv/bin/python benchmarks/coaching_simulation.py --seeds 2  # quicker
    .venv/bin/python benchmarks/coaching_simulation.py --other-truths --cache /tmp/coaching_sim  # + 40 orgs

The figures are written in docs/funnel-coaching.md ("Measured: false flags and recall").
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import pandas as pd

from helpers.analyses.coaching.model import CoachingSettings, fit_weak_stages, month_window
from helpers.core.config import DEFAULTS_FILE, load_config
from helpers.data.engine import open_source
from helpers.data.reductions import last_complete_month, rep_cohort_funnel, rep_month_funnel
from helpers.data.sample import generate_org

#: (label, counts, peer groups, evidence months); the last is the default
VARIANTS = (("flows, whole team, 6 months (older default)", "flow", "none", 6),
            ("flows, segment peers, 12 months (default before issue 19)", "flow", "segment", 12),
            ("cohorts, whole team, 12 months", "cohort", "none", 12),
            ("cohorts, segment peers, 12 months", "cohort", "segment", 12),
            ("cohorts, lead mix, 12 months (default)", "cohort", "lead_mix", 12))

CONFIG = load_config(DEFAULTS_FILE)
SETTINGS = CoachingSettings.from_config(CONFIG)


def org_funnels(root: Path, *, seeds, sizes, months: int = 14, kinds=(("null", {}), ("planted", {}))) -> list[dict]:
    """Generate (or reuse) the orgs under ``root``; one dict per org with both count tables and its truth.

    ``kinds``: (name, extra ``generate_org`` keywords); a name starting with "null" plants no weak stage."""
    out = []
    for seed in seeds:
        for reps in sizes:
            for kind, extra in kinds:
                weak = not kind.startswith("null") and not extra.get("no_effects")
                path = root / f"s{seed}_r{reps}_{kind}"
                if not (path / "ground_truth.json").exists():
                    generate_org(path, seed=seed, reps=reps, months=months, weak_stages=weak, **extra)
                src = open_source(data_dir=path)
                truth = json.loads((path / "ground_truth.json").read_text())
                month = str(last_complete_month(src))[:7]
                after = str(pd.Period(month, freq="M") + 1)
                flows = rep_month_funnel(src, CONFIG, end=after)
                cohorts = rep_cohort_funnel(src, CONFIG, end=after, maturity_quantile=SETTINGS.maturity_quantile)
                seg = src.read("reps", columns=["rep_id", "segment"])
                src.close()
                planted = dict(truth["funnel"]["weak_stage_reps"])
                planted.update(truth["funnel"].get("old_weak_stage", {}).get("reps", {}))
                out.append({"org": path.name, "kind": kind, "null": not planted, "flow": flows, "cohort": cohorts,
                            "month": month, "segments": dict(zip(seg["rep_id"], seg["segment"])),
                            "planted": planted})
    return out


#: the generator's other truths (issue 19): (name, generate_org keywords)
OTHER_TRUTHS = (("null_cadence", {"segment_cadence": True}), ("planted_cadence", {"segment_cadence": True}),
                ("null_noeffects", {"no_effects": True}), ("planted_oldweak", {"old_weak_stage": True}))


def study(orgs: list[dict], variants=VARIANTS) -> pd.DataFrame:
    """One row per variant: false flags on null orgs, on planted orgs' other reps, and recall."""
    rows = []
    for label, counts, peers, months in variants:
        settings = dataclasses.replace(SETTINGS, counts=counts, peer_groups=peers, evidence_months=months)
        tally = dict(null_flagged=0, null_reps=0, other_flagged=0, other_reps=0, found=0, planted=0)
        for org in orgs:
            model, _ = fit_weak_stages(org[counts], months=month_window(org["month"], months), settings=settings,
                                       rep_segments=org["segments"])
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
    ap.add_argument("--other-truths", action="store_true",
                    help="also the generator's other truths (segment cadences, no effects, old weak stages), "
                         "30 and 50 reps")
    args = ap.parse_args(argv)
    seeds = (2, 7, 17, 23, 31)[: args.seeds]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.cache or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        orgs = org_funnels(root, seeds=seeds, sizes=(24, 40, 60))
        print("## sample-like orgs (null and planted; 24, 40, 60 reps)\n")
        print(markdown(study(orgs)))
        if args.other_truths:
            for name, extra in OTHER_TRUTHS:
                more = org_funnels(root, seeds=seeds, sizes=(30, 50), kinds=((name, extra),))
                print(f"\n## {name} ({', '.join(extra)}; 30 and 50 reps)\n")
                print(markdown(study(more)))
                orgs += more
            print("\n## all orgs\n")
            print(markdown(study(orgs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
