"""Airflow DAGs for the Sales Science Workbook (for companies that already run Airflow).

Each numbered notebook is one ``PapermillOperator`` task (Airflow runs them in parallel and retries
them on its own), then ``publish`` renders the leadership HTML, writes the index and moves the
month into ``reports/YYYY-MM/`` atomically with :func:`helpers.reporting.pipeline.publish_executed`, exactly as
``sales-workbook report`` would. ``publish`` runs even when a notebook failed: the failed report gets
its card, the others are published, and the DAG run is then marked failed.

Requirements on the Airflow worker: the workbook checked out at ``SALES_WORKBOOK_HOME`` with its
``.venv`` (``make setup``), the provider ``apache-airflow-providers-papermill``, and the kernel
``sales-science-workbook`` visible to Jupyter (``JUPYTER_PATH=$SALES_WORKBOOK_HOME/.venv/share/jupyter``).
A database URL goes into the worker's environment (``SALES_WORKBOOK_DB_URL``), never into a parameter.

Simpler alternative: one ``BashOperator`` running ``.venv/bin/sales-workbook report --jobs 2``.
"""
from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

from airflow import DAG
from airflow.exceptions import AirflowFailException
try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.python import PythonOperator
from airflow.providers.papermill.operators.papermill import PapermillOperator

WORKBOOK = Path(os.environ.get("SALES_WORKBOOK_HOME", "/opt/sales-science-workbook"))
CONFIG = WORKBOOK / "workbook.toml"
KERNEL = "sales-science-workbook"
STAGING = WORKBOOK / "reports" / ".airflow"
NOTEBOOKS = sorted((WORKBOOK / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DAILY_NOTEBOOKS = [nb for nb in NOTEBOOKS if nb.stem == "05_lead_value_and_sla"]


def publish(staging: str, month: str, as_of: str, daily: bool) -> str:
    """Render and publish what the papermill tasks executed; fail the run if a report failed."""
    sys.path.insert(0, str(WORKBOOK))
    from helpers.reporting.pipeline import format_summary, publish_executed

    result = publish_executed(staging, month=month or None, as_of=as_of or None, config_path=CONFIG, daily=daily)
    shutil.rmtree(staging, ignore_errors=True)
    print(format_summary(result))
    if not result.ok:
        raise AirflowFailException(f"{len(result.failed)} report(s) failed; see {result.index_path}")
    return str(result.index_path)


def _tasks(notebooks: list[Path], *, month: str, as_of: str, daily: bool) -> None:
    staging = f"{STAGING}/{{{{ run_id | replace(':', '_') | replace('+', '_') }}}}"
    runs = []
    for nb in notebooks:
        parameters = {"month": month, "as_of": as_of, "config_path": str(CONFIG),
                      "results_path": f"{staging}/{nb.stem}.json"}
        if daily:
            parameters["daily"] = True
        runs.append(PapermillOperator(task_id=nb.stem, input_nb=str(nb), output_nb=f"{staging}/{nb.stem}.ipynb",
                                      kernel_name=KERNEL, parameters=parameters))
    done = PythonOperator(task_id="publish", python_callable=publish, trigger_rule="all_done",
                          op_kwargs={"staging": staging, "month": month, "as_of": as_of, "daily": daily})
    runs >> done


with DAG("sales_workbook_monthly", schedule="0 6 1 * *", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_tasks=2, tags=["sales-workbook"],
         doc_md="Monthly sales science report for the month that just ended.") as monthly:
    # a run on the 1st covers the interval from the previous 1st: that month is the report's month
    _tasks(NOTEBOOKS, month="{{ data_interval_start.strftime('%Y-%m') }}", as_of="", daily=False)

with DAG("sales_workbook_daily", schedule="0 7 * * 1-5", start_date=datetime(2026, 1, 1), catchup=False,
         tags=["sales-workbook"], doc_md="Daily SLA dashboard and lead-value pacing.") as daily_dag:
    _tasks(DAILY_NOTEBOOKS, month="", as_of="{{ data_interval_end.strftime('%Y-%m-%d') }}", daily=True)
