"""`manage.py imagemanager_emulator` and `python -m imgdash.emulator` as a person runs them."""

import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from imgdash.emulator.cli import parse_faults

ROOT = Path(__file__).resolve().parents[2]


def start(*args):
    """Run the command; return the process and everything it printed up to 'Press Ctrl-C'."""
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As in a terminal: Ctrl-C interrupts. A shell's background job (a CI runner's, say)
        # would otherwise pass its ignored SIGINT on, and Python would then never see it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    printed = []
    while not printed or "Press Ctrl-C" not in printed[-1]:
        try:
            printed.append(lines.get(timeout=20))
        except queue.Empty:
            process.kill()
            pytest.fail("the emulator did not start:\n" + "".join(printed))
    return process, "".join(printed)


def stop(process, sig):
    process.send_signal(sig)
    return process.wait(timeout=10)


def test_the_management_command_serves_and_prints_url_and_users():
    process, output = start(
        "manage.py", "imagemanager_emulator", "--port", "0", "--repos", "7", "--quiet"
    )
    try:
        api_url = re.search(r"API:\s+(\S+)", output).group(1)
        assert re.match(r"http://127\.0\.0\.1:\d+/image-manager/api/v1$", api_url)
        assert "7 repositories" in output
        for line in [
            "admin    / admin     ClusterAdministrator",
            "nsadmin  / nsadmin   Administrator in team-a, team-b",
            "operator / operator  Operator in team-a, team-b",
            "editor   / editor    Editor in team-a",
            "viewer   / viewer    Viewer in team-a, team-b",
        ]:
            assert line in output
        assert "Control:        disabled" in output
        assert requests.get(api_url, timeout=5).text.startswith("IBM Cloud Private")
    finally:
        assert stop(process, signal.SIGINT) == 0


def test_python_m_serves_tls_and_prints_the_ca_file():
    process, output = start(
        "-m", "imgdash.emulator", "--port", "0", "--repos", "3", "--tls", "--control", "--quiet"
    )
    try:
        api_url = re.search(r"API:\s+(\S+)", output).group(1)
        ca_file = re.search(r"CA file:\s+(\S+)", output).group(1)
        assert api_url.startswith("https://")
        assert requests.get(api_url, verify=ca_file, timeout=5).status_code == 200
        assert "/_emulator/" in output
    finally:
        assert stop(process, signal.SIGTERM) == 0


def test_faults_from_the_command_line():
    fault = '{"path": "/repositories$", "status": 503, "times": 1}'
    process, output = start(
        "-m", "imgdash.emulator", "--port", "0", "--repos", "3", "--fault", fault, "--quiet"
    )
    try:
        url = re.search(r"API:\s+(\S+)", output).group(1) + "/repositories"
        assert '"status": 503' in output
        assert requests.get(url, timeout=5).status_code == 503
        assert requests.get(url, timeout=5).status_code == 401  # no token: the fault is spent
    finally:
        stop(process, signal.SIGTERM)


def test_a_bad_fault_is_refused_before_starting():
    result = subprocess.run(
        [sys.executable, "-m", "imgdash.emulator", "--port", "0", "--fault", '{"status": 99}'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert result.returncode == 2
    assert "status" in result.stderr


def test_parse_faults_reads_json_specs():
    faults = parse_faults(['{"method": "*", "path": "x", "reset": true}'])

    assert faults[0].method == "*"
    assert faults[0].reset is True
    with pytest.raises(ValueError, match="--fault"):
        parse_faults(["not json"])


def test_the_demo_openid_client_is_registered_unless_others_are_given():
    process, output = start("-m", "imgdash.emulator", "--port", "0", "--repos", "3", "--quiet")
    try:
        issuer = re.search(r"OpenID issuer:\s+(\S+)", output).group(1)
        document = requests.get(issuer + "/.well-known/openid-configuration", timeout=5).json()
        assert document["issuer"] == issuer
        assert "imgdash-demo (redirect URIs: http://127.0.0.1:8000/oidc/callback/" in output
    finally:
        stop(process, signal.SIGTERM)


def test_openid_clients_registration_secret_and_public_url_from_the_command_line():
    client = (
        '{"client_id": "portal", "client_secret": "s3cret", '
        '"redirect_uris": ["https://portal.example/cb"]}'
    )
    process, output = start(
        "-m",
        "imgdash.emulator",
        "--port",
        "0",
        "--repos",
        "3",
        "--quiet",
        "--oidc-client",
        client,
        "--oidc-registration-secret",
        "let-me-register",
        "--public-url",
        "https://mycluster.example:8443",
    )
    try:
        assert "OpenID issuer:  https://mycluster.example:8443/oidc/endpoint/OP" in output
        assert "portal (redirect URIs: https://portal.example/cb)" in output
        assert "imgdash-demo" not in output
        registration = (
            re.search(r"API:\s+(\S+)", output)
            .group(1)
            .replace("/image-manager/api/v1", "/oidc/endpoint/OP/registration")
        )
        metadata = {"redirect_uris": ["https://other.example/cb"]}
        refused = requests.post(
            registration, json=metadata, auth=("oauthadmin", "registration-secret"), timeout=5
        )
        accepted = requests.post(
            registration, json=metadata, auth=("oauthadmin", "let-me-register"), timeout=5
        )
        assert (refused.status_code, accepted.status_code) == (401, 201)
    finally:
        stop(process, signal.SIGTERM)


def test_a_bad_openid_client_is_refused_before_starting():
    result = subprocess.run(
        [sys.executable, "-m", "imgdash.emulator", "--port", "0", "--oidc-client", "{}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert result.returncode == 2
    assert "redirect_uris" in result.stderr


def test_the_command_serves_the_registry_on_its_own_port():
    process, output = start(
        "manage.py",
        "imagemanager_emulator",
        "--port",
        "0",
        "--registry-port",
        "0",
        "--anchor",
        "2025-06-01",
        "--repos",
        "7",
        "--quiet",
    )
    try:
        registry = re.search(r"Registry \(v2\):\s+(\S+)", output).group(1)
        api_url = re.search(r"API:\s+(\S+)", output).group(1)
        assert "Built before:   2025-06-01" in output
        answer = requests.get(registry + "/v2/", timeout=5)
        assert answer.status_code == 401
        assert f'realm="{api_url}/auth/token"' in answer.headers["WWW-Authenticate"]
    finally:
        assert stop(process, signal.SIGINT) == 0


def test_a_bad_anchor_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "imgdash.emulator", "--anchor", "last tuesday"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "is not a date" in result.stderr
