"""The ``sales-workbook`` command.

Subcommands import their modules lazily so that ``sales-workbook --help`` and the report's
start-up stay fast.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers import __version__


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None,
                   help="workbook.toml to use (default: $SALES_WORKBOOK_CONFIG or the project's workbook.toml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sales-workbook",
        description="Sales Science Workbook: validate sales data, generate a sample organisation, build reports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a data folder against the data contract")
    p.add_argument("data_dir", type=Path, nargs="?", default=None,
                   help="data folder (default: the configured one)")
    _add_config(p)

    p = sub.add_parser("init", help="write a commented configuration for a data folder from what it holds")
    p.add_argument("data_dir", type=Path, help="data folder; <folder>.workbook.toml is written next to it")
    p.add_argument("--force", action="store_true", help="replace an existing <folder>.workbook.toml")

    p = sub.add_parser("sample", help="generate a synthetic organisation with planted truth")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the one data/sample was made with)")
    p.add_argument("--reps", type=int, default=None, help="number of quota-carrying reps")
    p.add_argument("--months", type=int, default=None, help="months of history")
    p.add_argument("--out", type=Path, required=True, help="folder to write (created; existing tables replaced)")
    p.add_argument("--format", choices=("parquet", "csv", "csv.gz"), default=None, help="file format of the tables")
    p.add_argument("--revenue-roles", action="store_true",
                   help="also plant notebook 07's roles (market-response, SDR, closer, account manager), lead kinds "
                        "with different conversion and cycle, a lead-load effect and seasonality (off: same bytes)")
    truths = p.add_argument_group("other truths than the sample's (each off by default: off keeps every byte)")
    truths.add_argument("--no-effects", action="store_true",
                        help="nothing has an effect: no trait or training score predicts, equal reps and lead types, "
                             "one churn rate, no interviewer leniency, null experiments")
    truths.add_argument("--no-weak-stages", action="store_true", help="plant no weak funnel stage")
    truths.add_argument("--hires", type=int, default=None,
                        help="only the N most recent hires have hiring scorecards (e.g. 18)")
    truths.add_argument("--segment-cadence", action="store_true",
                        help="segments connect less and call further apart (enterprise 0.5x connect, 2.5x spacing)")
    truths.add_argument("--old-weak-stage", action="store_true",
                        help="the weak stages hold only in leads older than the last 6 months (needs --months 9+)")
    truths.add_argument("--experiment-harm", action="store_true",
                        help="EXP-01's treatment is worse than control (close probability x0.6)")

    p = sub.add_parser(
        "report", help="run the notebooks and build the month's (or the day's) HTML report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=("Run every numbered notebook on the data and publish the month's report: one HTML page per\n"
                     "report for sales leaders (no code), an index with this month's actions, the results as JSON\n"
                     "and the executed notebooks for analysts, in <out>/YYYY-MM/ (replaced whole, never half-written).\n"
                     "A report whose tables are missing is skipped; one that fails does not stop the others (exit 1).\n"
                     "The sample data takes about 2-4 minutes with --jobs 2 on a laptop (each notebook 20 s to 2 min)."),
        epilog=("examples:\n"
                "  sales-workbook report                              last complete month, configured data\n"
                "  sales-workbook report --data data/sample --jobs 2  the bundled sample, two notebooks at a time\n"
                "  sales-workbook report --month 2026-09 --only 03 05 two reports of September only\n"
                "  sales-workbook report --daily                      today's dashboard (SLA list, lead-value pace)\n"
                "  sales-workbook report --rep R00018                 one rep's private coaching page"))
    p.add_argument("--month", default=None, help="YYYY-MM (default: the last complete month in the data)")
    p.add_argument("--as-of", dest="as_of", default=None, help="the date (YYYY-MM-DD: the end of that day, UTC) or date and time "
                   "(ISO 8601 with a zone, e.g. 2026-10-31T16:00:00Z) the report is as of; a daily dashboard "
                   "for today defaults to the moment it runs")
    p.add_argument("--data", type=Path, default=None, help="data folder (overrides the config)")
    p.add_argument("--out", type=Path, default=None, help="reports folder (default: the configured one)")
    p.add_argument("--only", nargs="+", default=None, metavar="NN", help="run only these notebooks, e.g. 03 05")
    p.add_argument("--jobs", type=int, default=1, help="notebooks run in parallel (default: 1; 2 suits a laptop)")
    p.add_argument("--daily", action="store_true", help="daily mode: only notebooks that declare one")
    p.add_argument("--on-bad-rows", dest="on_bad_rows", choices=("error", "quarantine"), default=None,
                   help="rows breaking the contract: stop with an error (default) or leave them out, counted and "
                        "listed on the index and in run.json (overrides [data] on_bad_rows)")
    p.add_argument("--rep", default=None, metavar="REP_ID",
                   help="write one rep's private funnel-coaching page (notebook 03, peers anonymised) to "
                        "<out>/YYYY-MM/private/REP_ID.html instead of the month's report")
    p.add_argument("--remove-private", dest="remove_private", action="store_true",
                   help="remove the month's private coaching pages (kept by a re-run otherwise)")
    _add_config(p)

    p = sub.add_parser("import", help="turn a HubSpot or Salesforce CSV export into a data folder")
    p.add_argument("crm", choices=("hubspot", "salesforce"), help="which CRM the export comes from")
    p.add_argument("export_dir", type=Path, help="folder holding the export's CSV files")
    p.add_argument("--out", type=Path, required=True, help="data folder to write (replaced whole if from an import)")
    p.add_argument("--mapping", type=Path, default=None,
                   help="mapping file (default: <out>.mapping.toml next to the output; written on first run)")
    _add_config(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from helpers.core.config import ConfigError, load_config

    if getattr(args, "on_bad_rows", None):  # read by validation and by every notebook's kernel (inherited)
        import os

        os.environ["SALES_WORKBOOK_ON_BAD_ROWS"] = args.on_bad_rows
    try:
        if getattr(args, "config", None) is not None or args.command in ("validate", "report"):
            load_config(args.config)  # fail fast, before any data is read, on a bad configuration
        if args.command == "validate":
            from helpers.data.validate import cli_validate

            return cli_validate(data_dir=args.data_dir, config_path=args.config)
        if args.command == "init":
            from helpers.data.init_config import cli_init

            return cli_init(args.data_dir, force=args.force)
        if args.command == "sample":
            from helpers.data.sample import cli_sample

            return cli_sample(seed=args.seed, reps=args.reps, months=args.months, out=args.out, fmt=args.format,
                              revenue_roles=args.revenue_roles, no_effects=args.no_effects,
                              weak_stages=not args.no_weak_stages, hires=args.hires,
                              segment_cadence=args.segment_cadence, old_weak_stage=args.old_weak_stage,
                              experiment_harm=args.experiment_harm)
        if args.command == "import":
            from helpers.data.importers.pipeline import cli_import

            return cli_import(args.crm, args.export_dir, args.out, args.mapping, args.config)
        if args.command == "report" and args.rep is not None:
            if args.only or args.daily or args.as_of or args.jobs != 1 or args.remove_private:
                print("sales-workbook report --rep: takes only --month, --data, --out and --config", file=sys.stderr)
                return 2
            from helpers.analyses.coaching.report import cli_private_page

            return cli_private_page(args.rep, month=args.month, config_path=args.config, data_dir=args.data,
                                    out_dir=args.out)
        if args.command == "report":
            from helpers.reporting.pipeline import cli_report

            return cli_report(month=args.month, as_of=args.as_of, config_path=args.config, data_dir=args.data,
                              out_dir=args.out, only=args.only, jobs=args.jobs, daily=args.daily,
                              remove_private=args.remove_private)
    except ConfigError as exc:
        print(f"sales-workbook: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sales-workbook: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
