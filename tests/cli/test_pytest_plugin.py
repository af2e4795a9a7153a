"""The pytest plugin as an application sees it: loaded through its entry point (no conftest),
in a fresh pytest process, with each of its server modes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP_TEST = '''
import os

def test_cache(pyredis_server, pyredis_client):
    assert pyredis_client.dbsize() == 0
    pyredis_client.set("user:1", "ada", ex=10)
    pyredis_server.advance(11)
    assert pyredis_client.get("user:1") is None
    with open(os.environ["PLUGIN_REPORT"], "w") as f:
        f.write(f"{pyredis_server.url} external={pyredis_server.external} "
                f"subprocess={getattr(pyredis_server.server, 'proc', None) is not None}")

def test_isolated(pyredis_client):
    assert pyredis_client.dbsize() == 0  # flushed between tests
    pyredis_client.set("left", "over")
'''


def run_app_tests(tmp_path: Path, *opts: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, str]:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "test_app.py").write_text(APP_TEST)
    report = tmp_path / "report.txt"
    full_env = {k: v for k, v in os.environ.items() if k != "PYREDIS_TEST_URL"}
    full_env.update({"PLUGIN_REPORT": str(report), **(env or {})})
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(app),
                          str(app), *opts], cwd=app, capture_output=True, text=True, timeout=120, env=full_env)
    return out, report.read_text() if report.exists() else ""


def test_thread_mode(tmp_path):
    out, report = run_app_tests(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout
    assert "external=False subprocess=False" in report and "redis://127.0.0.1:" in report


def test_subprocess_mode(tmp_path):
    out, report = run_app_tests(tmp_path, "--pyredis-subprocess")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "external=False subprocess=True" in report


def test_external_url_option_and_env(tmp_path, pyredis_srv):
    # pyredis_srv (our own suite's server) stands in for "an external Redis": DEBUG CLOCK works
    # there, so advance() does not sleep.
    url = f"redis://127.0.0.1:{pyredis_srv.port}"
    out, report = run_app_tests(tmp_path, "--redis-url", url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert report == f"{url} external=True subprocess=False"
    out, report = run_app_tests(tmp_path, env={"PYREDIS_TEST_URL": url})
    assert out.returncode == 0, out.stdout + out.stderr
    assert report.startswith(url)


def test_external_real_redis_falls_back_to_sleep(tmp_path, real_redis):
    app = tmp_path / "app"
    app.mkdir()
    (app / "test_real.py").write_text(
        "import time\n"
        "def test_advance(pyredis_server, pyredis_client):\n"
        "    pyredis_client.set('k', 'v', px=300)\n"
        "    t0 = time.monotonic()\n"
        "    pyredis_server.advance(0.4)  # redis-server has no DEBUG CLOCK: sleeps\n"
        "    assert time.monotonic() - t0 >= 0.35\n"
        "    assert pyredis_client.get('k') is None\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(app),
                          str(app), "--redis-url", real_redis.url], cwd=app, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
