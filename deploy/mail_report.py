"""Mail a report folder to the team: the index as the message body, each report page attached.

    python deploy/mail_report.py reports/daily/2026-11-24 --to sales-team@example.com [--dry-run]

The pages are self-contained (styles and plots inside the file), so they open offline from a
mail client. SMTP settings come from the environment: SMTP_HOST (default localhost), SMTP_PORT
(25), SMTP_USER / SMTP_PASSWORD (optional, STARTTLS is used when a user is set), MAIL_FROM.
Nothing but the standard library is used.
"""
from __future__ import annotations

import argparse
import os
import re
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path


def build_message(folder: Path, *, to: list[str], sender: str) -> EmailMessage:
    """The message for ``folder``: its index as HTML body and its report pages as attachments."""
    index = (folder / "index.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", index, flags=re.S)
    msg = EmailMessage()
    msg["Subject"] = title.group(1).strip() if title else f"Sales report {folder.name}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content("This report is HTML: open the attachments in a browser.")
    msg.add_alternative(index, subtype="html")
    for page in sorted(folder.glob("[0-9][0-9]_*.html")):
        msg.add_attachment(page.read_bytes(), maintype="text", subtype="html", filename=page.name)
    return msg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="reports/YYYY-MM or reports/daily/YYYY-MM-DD")
    parser.add_argument("--to", nargs="+", required=True, help="recipients")
    parser.add_argument("--dry-run", action="store_true", help="print the message headers instead of sending")
    args = parser.parse_args(argv)
    if not (args.folder / "index.html").exists():
        print(f"mail_report: {args.folder} has no index.html; run `sales-workbook report` first", file=sys.stderr)
        return 2
    msg = build_message(args.folder, to=args.to, sender=os.environ.get("MAIL_FROM", "sales-workbook@localhost"))
    if args.dry_run:
        print("\n".join(f"{k}: {v}" for k, v in msg.items()))
        return 0
    with smtplib.SMTP(os.environ.get("SMTP_HOST", "localhost"), int(os.environ.get("SMTP_PORT", "25"))) as smtp:
        if os.environ.get("SMTP_USER"):
            smtp.starttls()
            smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
        smtp.send_message(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
