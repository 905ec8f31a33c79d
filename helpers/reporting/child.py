"""Run one function in a fresh Python process and bring its result back.

Validation before a report reads every table; in a child process that memory goes back to the
system when it exits, instead of staying with the report process while the notebooks run. The
child is a new interpreter (``python -m helpers.reporting.child``), not a fork: a fork of a process
that already runs threads (Arrow's pools, a Spark gateway, a kernel client) can copy a lock that
another thread holds, and the child then waits forever. Unlike multiprocessing's spawn and
forkserver, it does not re-import the caller's ``__main__`` (a script without a main guard).
"""
from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any

from helpers.paths import PROJECT_ROOT


class ChildProcessError(RuntimeError):
    """The child process died without a result (killed, out of memory)."""


def run_in_child(func: Any, *args: Any) -> Any:
    """``func(*args)`` in a fresh interpreter: its return value, or its exception raised here."""
    payload = pickle.dumps((func, args))
    env_path = [str(PROJECT_ROOT), *sys.path]
    proc = subprocess.run([sys.executable, "-m", "helpers.reporting.child"], input=payload,
                          capture_output=True, env=_env(env_path), check=False)
    if proc.returncode != 0 or not proc.stdout:
        tail = proc.stderr.decode(errors="replace")[-2000:]
        raise ChildProcessError(f"the checking process ended without a result (exit {proc.returncode}): {tail}")
    ok, value = pickle.loads(proc.stdout)
    if ok:
        return value
    raise value


def _env(path: list[str]) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(p for p in path if p))}


def _main() -> None:
    func, args = pickle.loads(sys.stdin.buffer.read())
    try:
        result = (True, func(*args))
        data = pickle.dumps(result)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the caller
        try:
            data = pickle.dumps((False, exc))
        except Exception:  # an exception that does not pickle: its text
            data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _main()
