"""The scheduling examples in deploy/ stay runnable: right command, valid syntax, mail built offline."""
from __future__ import annotations

import ast
import re
import sys

from helpers.paths import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def test_cron_entries_have_five_time_fields_and_call_the_report():
    lines = [ln for ln in (DEPLOY / "cron" / "sales-workbook.cron").read_text().splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    assert len(lines) == 2
    for line in lines:
        fields = line.split(None, 5)
        assert all(re.fullmatch(r"[\d*,/-]+", f) for f in fields[:5]), line
        assert "sales-workbook report" in fields[5]
        assert "%" not in fields[5].replace("\\%", ""), "cron needs % escaped"
    assert "--daily" in lines[1] and "--daily" not in lines[0]


def test_systemd_units_pair_timers_with_services():
    for kind in ("monthly", "daily"):
        service = (DEPLOY / "systemd" / f"sales-workbook-{kind}.service").read_text()
        timer = (DEPLOY / "systemd" / f"sales-workbook-{kind}.timer").read_text()
        assert "Type=oneshot" in service and "sales-workbook report" in service
        assert re.search(r"^OnCalendar=", timer, flags=re.M) and "WantedBy=timers.target" in timer
        assert ("--daily" in service) is (kind == "daily")


def test_airflow_dag_uses_papermill_and_publishes_with_the_workbook():
    source = (DEPLOY / "airflow" / "sales_workbook_dag.py").read_text()
    tree = ast.parse(source)  # valid Python (Airflow itself is not a dependency of the workbook)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert {"PapermillOperator", "publish_executed"} <= imported
    assert 'trigger_rule="all_done"' in source and "sales-science-workbook" in source
    assert "DB_URL" not in source.split('"""', 2)[2]  # credentials never become parameters


def test_mail_report_builds_a_message_with_the_index_and_the_pages(tmp_path):
    sys.path.insert(0, str(DEPLOY))
    try:
        from mail_report import build_message, main
    finally:
        sys.path.remove(str(DEPLOY))
    (tmp_path / "index.html").write_text("<html><head><title>Acme: Daily dashboard, 2026-11-24</title></head></html>")
    (tmp_path / "05_lead_value_and_sla.html").write_text("<html>report</html>")
    (tmp_path / "05_lead_value_and_sla.json").write_text("{}")
    msg = build_message(tmp_path, to=["team@example.com"], sender="me@example.com")
    assert msg["Subject"] == "Acme: Daily dashboard, 2026-11-24"
    assert [p.get_filename() for p in msg.iter_attachments()] == ["05_lead_value_and_sla.html"]
    assert main([str(tmp_path / "missing"), "--to", "x@example.com"]) == 2
