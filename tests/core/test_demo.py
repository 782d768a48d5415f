"""The newcomer's first command, run as a newcomer runs it: a fresh process, a fresh folder."""

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import fresh_process_env

ROOT = Path(__file__).resolve().parents[2]


def demo_env(data_dir):
    return fresh_process_env(IMGDASH_DATA_DIR=str(data_dir))


def run_demo(data_dir, *args):
    return subprocess.run(
        [sys.executable, "manage.py", "demo", *args],
        cwd=ROOT,
        env=demo_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_sets_up_everything_and_prints_the_users(tmp_path):
    result = run_demo(tmp_path, "--setup-only", "--repos", "40")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for user in ("admin", "operator", "viewer", "auditor"):
        assert f"{user:<9} password demo-{user}" in out
    assert "Dashboard: http://127.0.0.1:8000/" in out
    assert (tmp_path / "imgdash.sqlite3").exists()
    assert (tmp_path / "demo-emulator.json").exists()


def test_running_the_demo_again_reuses_the_data(tmp_path):
    assert run_demo(tmp_path, "--setup-only", "--repos", "40").returncode == 0
    state = (tmp_path / "demo-emulator.json").read_bytes()
    again = run_demo(tmp_path, "--setup-only", "--repos", "999")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "demo-emulator.json").read_bytes() == state  # not re-seeded


def test_demo_serves_the_sign_in_page_until_stopped(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--repos", "30", "--addrport", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=2
                ) as response:
                    page = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        assert 'name="password"' in page
        assert "Demo: this dashboard talks to the embedded Image Manager emulator" in page
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    # It started one jobs worker, and stopped it with itself.
    worker = re.search(r"manage.py db_worker, process (\d+)", output)
    assert worker, output
    assert not Path(f"/proc/{worker.group(1)}").exists() or _is_zombie(worker.group(1))


def _is_zombie(pid):
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
