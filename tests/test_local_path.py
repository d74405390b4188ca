"""The README's local path, replayed verbatim on a fresh clone: `make demo`, then `make emulator` and
`make run` with no .env, sign in, start a sync from the dashboard and see it complete.

It builds a virtualenv of its own in the clone (as a new user's machine does), so it takes a
couple of minutes; it needs the package registry that `make demo` installs from.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def _wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise AssertionError(f"nothing answered at {url}")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(not (_free(8000) and _free(8765)),
                    reason="ports 8000 and 8765 (make run's and make emulator's) are taken on this machine")
def test_make_demo_then_run_and_emulator_sync_from_the_dashboard(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO", "DATABASE", "REDIS", "GMAIL", "GOOGLE", "DEBUG", "SECRET", "ENCRYPTION",
                                "RUN_", "MEDIA", "PYTEST", "VIRTUAL_ENV"))}
    demo = subprocess.run(["make", "demo"], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "make emulator" in demo.stdout and "make run" in demo.stdout
    servers = [subprocess.Popen(["make", target], cwd=clone, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True) for target in ("emulator", "run")]
    try:
        _wait_for("http://127.0.0.1:8765/")
        _wait_for("http://127.0.0.1:8000/accounts/login/")
        base, session = "http://127.0.0.1:8000", requests.Session()
        session.get(base + "/accounts/login/")
        signed_in = session.post(base + "/accounts/login/", data={
            "username": "demo", "password": "demo-password", "next": "/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        assert signed_in.url == base + "/" and "Start sync" in signed_in.text
        # What the dashboard's "Start sync" sends.
        started = session.post(base + "/api/receipts/sync", json={"mode": "full_backfill", "months_back": 2,
                                                                 "run_to_completion": True},
                               headers={"X-CSRFToken": session.cookies["csrftoken"]})
        assert started.status_code == 202, started.text
        run_id = started.json()["sync_run"]["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run = session.get(f"{base}/api/receipts/sync/status?run_id={run_id}").json()["sync_run"]
            if run["status"] not in {"running", "paused"}:
                break
            time.sleep(0.5)
        assert run["status"] == "completed", run
        assert run["progress"]["messages_scanned"] > 0
        assert session.get(base + "/admin/").status_code == 200
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
