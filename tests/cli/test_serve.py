"""`openvpp db upgrade`, `openvpp keys create` and `openvpp serve` (a real uvicorn server on loopback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 180.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/v1/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def test_db_upgrade_and_keys_create(run_main, tmp_path):
    db = f"sqlite:///{tmp_path / 'store' / 'openvpp.db'}"
    code, out, err = run_main(["db", "upgrade", "--db", db])
    assert code == 0, err
    code, out, err = run_main(
        [
            "keys",
            "create",
            "--tenant",
            "agg",
            "--role",
            "aggregator",
            "--scope",
            "der:read",
            "--scope",
            "telemetry:write",
            "--db",
            db,
            "--json",
        ]
    )
    assert code == 0, err
    made = json.loads(out)
    assert made["key"].startswith("ovpp_") and made["scopes"] == ["der:read", "telemetry:write"]
    # the key is printed, never stored
    assert made["key"].encode() not in (tmp_path / "store" / "openvpp.db").read_bytes()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["keys", "create", "--tenant", "d", "--role", "dso", "--scope", "telemetry:write"], "--scope"),
        (["keys", "create", "--tenant", "x", "--role", "operator"], "--role"),
        (["db", "upgrade", "--db", "mysql://h/d"], "--db"),
        (["serve", "--workers", "2"], "--workers"),
    ],
)
def test_bad_options_exit_2_naming_the_option(run_main, args, field):
    code, _out, err = run_main(args)
    assert code == 2 and field in err and "Traceback" not in err


def test_serve_on_the_default_sqlite_store(tmp_path):
    """`openvpp serve` without --db: SQLite in ./openvpp-data, migrated on start; a CLI-made key works."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OPENVPP_DB_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "openvpp.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc)
        assert (tmp_path / "openvpp-data" / "openvpp.db").exists()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "openvpp.cli",
                "keys",
                "create",
                "--tenant",
                "agg",
                "--role",
                "aggregator",
                "--json",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        key = json.loads(out)["key"]
        r = httpx.post(
            f"{url}/v1/sites", json={"external_id": "s1"}, headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 201
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "OpenVPP service"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_serve_with_two_workers_over_postgresql(tmp_path):
    import psycopg

    base = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI at {base}")
        pytest.skip(f"no PostgreSQL at {base}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    db = f"{base}?options=-csearch_path%3D{schema}"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openvpp.cli", "serve", "--db", db, "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "openvpp.cli",
                "keys",
                "create",
                "--tenant",
                "agg",
                "--role",
                "aggregator",
                "--db",
                db,
                "--json",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        h = {"Authorization": f"Bearer {json.loads(out)['key']}"}
        ids = {
            httpx.post(f"{url}/v1/sites", json={"external_id": f"s{k}"}, headers=h).json()["id"]
            for k in range(8)
        }
        listed = {s["id"] for s in httpx.get(f"{url}/v1/sites", headers=h).json()}
        assert len(ids) == 8 and listed == ids
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
