"""deploy/ runs imgdash as production settings demand.

Every YAML file there parses, and every variable production settings refuse to start without
(found by loading imgdash/settings.py with IMGDASH_DEBUG off and nothing set) reaches the web
server and the jobs worker in the compose file and in the Helm chart, the secret ones from a
Secret. The timeouts are stacked so a proxy never gives up before gunicorn, nor gunicorn before
imgdash's own deadline on a cluster call.
"""

import re
import runpy
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "imgdash"
SETTINGS = ROOT / "imgdash" / "settings.py"

# A value that production settings accept, for each variable they may insist on. A variable
# that settings come to require and that is missing here fails the test by name: give it a
# value here and wire it into deploy/.
ACCEPTED_VALUES = {
    "IMGDASH_SECRET_KEY": lambda: "s" * 50,
    "IMGDASH_ALLOWED_HOSTS": lambda: "imgdash.example.com",
    "IMGDASH_TOKEN_KEYS": lambda: Fernet.generate_key().decode(),
    "IMGDASH_AUDIT_KEY": lambda: "a" * 40,
}
# Beyond what settings insist on, what several instances need: one database and one cache
# for all, and the client address through the proxy in front.
SCALE_OUT = {"DATABASE_URL", "REDIS_URL", "IMGDASH_BEHIND_PROXY", "IMGDASH_TRUSTED_PROXY_COUNT"}
SECRETS = {"IMGDASH_SECRET_KEY", "IMGDASH_TOKEN_KEYS", "IMGDASH_AUDIT_KEY", "DATABASE_URL"}


def settings_variables():
    text = SETTINGS.read_text()
    return set(re.findall(r"env(?:bool|int|list)\(\s*\"([A-Z_]+)\"", text)) | set(
        re.findall(r"os\.environ\.get\(\s*\"([A-Z_]+)\"", text)
    )


def required_in_production(monkeypatch):
    """Load the settings with none of their variables set (debug, demo and test mode off),
    supplying each variable they stop on until they load: those are the required ones."""
    names = settings_variables()
    for name in names:
        monkeypatch.delenv(name, raising=False)
    required = set()
    for _ in range(len(names) + 1):
        try:
            runpy.run_path(str(SETTINGS))
        except ImproperlyConfigured as error:
            missing = [name for name in names if str(error).startswith(name)]
            assert missing, f"production settings stopped on something unnamed: {error}"
            name = missing[0]
            assert name not in required, f"{name} was given and still refused: {error}"
            assert name in ACCEPTED_VALUES, (
                f"production settings now require {name}: wire it into deploy/ (compose, "
                f"chart, env examples) and give it a value in ACCEPTED_VALUES"
            )
            monkeypatch.setenv(name, ACCEPTED_VALUES[name]())
            required.add(name)
        else:
            return required
    raise AssertionError("production settings never loaded")


@pytest.fixture
def required(monkeypatch):
    names = required_in_production(monkeypatch)
    monkeypatch.undo()
    return names


def compose():
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())


def helm_template(name):
    return (CHART / "templates" / name).read_text()


def env_block(helpers):
    """The text of the chart's `imgdash.env` definition, which every container includes."""
    start = helpers.index('{{- define "imgdash.env" -}}')
    return helpers[start : helpers.index("{{- end -}}\n\n", start)]


def test_it_finds_the_variables_production_insists_on(required):
    assert required == {
        "IMGDASH_SECRET_KEY",
        "IMGDASH_ALLOWED_HOSTS",
        "IMGDASH_TOKEN_KEYS",
        "IMGDASH_AUDIT_KEY",
    }


@pytest.mark.parametrize(
    "path",
    sorted(
        path
        for path in DEPLOY.rglob("*")
        if path.suffix in (".yaml", ".yml") and "templates" not in path.parts
    ),
    ids=lambda path: str(path.relative_to(DEPLOY)),
)
def test_it_parses_every_yaml_file(path):
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents and all(isinstance(document, dict) for document in documents)


@pytest.mark.parametrize("service", ["web", "worker", "migrate"])
def test_it_gives_every_compose_container_what_production_needs(required, service):
    environment = compose()["services"][service]["environment"]
    assert required | SCALE_OUT <= set(environment)
    for name in required:
        # ${NAME:?…}: `docker compose` stops with a message instead of starting on an empty key.
        assert environment[name].startswith("${" + name + ":?"), name
    assert environment["IMGDASH_AUDIT_ANCHOR"] in ("stdout", "syslog")


def test_it_runs_the_worker_and_the_services_it_needs_in_compose():
    services = compose()["services"]
    assert {"web", "worker", "migrate", "postgres", "redis"} <= set(services)
    assert services["worker"]["command"][-2:] == ["manage.py", "db_worker"]
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert "@postgres:5432/" in services["web"]["environment"]["DATABASE_URL"]
    for service in ("web", "worker"):
        assert services[service]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


@pytest.mark.parametrize("example", ["compose/env.example", "systemd/env.example"])
def test_it_lists_every_required_variable_in_the_env_examples(required, example):
    listed = set(re.findall(r"^([A-Z_]+)=", (DEPLOY / example).read_text(), re.MULTILINE))
    assert required <= listed


def test_it_gives_every_chart_container_what_production_needs(required):
    env = env_block(helm_template("_helpers.tpl"))
    for name in required | SCALE_OUT:
        assert f'"name" "{name}"' in env or f"- name: {name}\n" in env, name
    for name in SECRETS | {"REDIS_URL"}:
        # From the Secret, never from values (a release's values are stored in the cluster).
        assert f'include "imgdash.secretEnv" (dict "name" "{name}"' in env, name
    assert "name: IMGDASH_AUDIT_ANCHOR\n  value: stdout" in env
    for template in (
        "web-deployment.yaml",
        "worker-deployment.yaml",
        "migrate-job.yaml",
        "anchor-cronjob.yaml",
    ):
        assert 'include "imgdash.env"' in helm_template(template), template


def test_it_probes_liveness_on_healthz_and_readiness_on_readyz():
    web = helm_template("web-deployment.yaml")
    liveness = web[web.index("livenessProbe:") : web.index("readinessProbe:")]
    readiness = web[web.index("readinessProbe:") : web.index("resources:")]
    assert "path: /healthz" in liveness
    assert "path: /readyz" in readiness
    # Django answers 400 to a Host outside IMGDASH_ALLOWED_HOSTS, such as the pod's address.
    assert 'include "imgdash.probeHeaders"' in liveness
    assert 'include "imgdash.probeHeaders"' in readiness


def test_it_runs_the_worker_in_the_chart_with_a_unique_id():
    worker = helm_template("worker-deployment.yaml")
    assert '"manage.py", "db_worker", "--worker-id", "$(POD_NAME)"' in worker
    assert "fieldPath: metadata.name" in worker


def test_it_documents_every_value_of_the_chart():
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    for key in values:
        above = text[: text.index(f"\n{key}:")].rstrip().splitlines()[-1]
        assert above.startswith("#"), f"values.yaml: {key} has no comment above it"
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["name"] == "imgdash"


def gunicorn_timeout(text):
    return int(re.search(r"--timeout (\d+)", text).group(1))


def test_it_stacks_the_timeouts_above_the_longest_cluster_call(settings):
    longest_call = max(settings.IMAGEMANAGER_CALL_DEADLINE, settings.IMAGEMANAGER_LIST_DEADLINE)
    gunicorn = gunicorn_timeout((DEPLOY / "Containerfile").read_text())
    assert gunicorn == gunicorn_timeout((DEPLOY / "systemd" / "imgdash-web.service").read_text())
    assert gunicorn > longest_call
    nginx = (DEPLOY / "nginx" / "imgdash.conf").read_text()
    assert int(re.search(r"proxy_read_timeout (\d+)s;", nginx).group(1)) > gunicorn
    annotations = yaml.safe_load((CHART / "values.yaml").read_text())["ingress"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > gunicorn


def test_it_counts_the_nginx_site_as_the_one_trusted_proxy():
    nginx = (DEPLOY / "nginx" / "imgdash.conf").read_text()
    assert re.findall(r"proxy_set_header X-Forwarded-For (\S+);", nginx) == [
        "$proxy_add_x_forwarded_for"
    ]
    assert "proxy_set_header X-Forwarded-Proto https;" in nginx
    assert "IMGDASH_TRUSTED_PROXY_COUNT=1\n" in (DEPLOY / "systemd" / "env.example").read_text()
    assert "IMGDASH_TRUSTED_PROXY_COUNT=1\n" in (DEPLOY / "compose" / "env.example").read_text()


def test_it_builds_an_image_that_runs_gunicorn_as_nobody_special():
    containerfile = (DEPLOY / "Containerfile").read_text()
    user = re.findall(r"^USER (\S+)$", containerfile, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert "manage.py collectstatic --noinput" in containerfile
    assert re.search(r"^HEALTHCHECK ", containerfile, re.MULTILINE)
    assert "exec gunicorn -c deploy/gunicorn.conf.py imgdash.wsgi" in containerfile
    # The build's throw-away keys stay in that one RUN step, never in the image's environment.
    env_lines = re.findall(r"^ENV [^\n]*(?:\\\n[^\n]*)*", containerfile, re.MULTILINE)
    assert not any(name in "".join(env_lines) for name in SECRETS)


def test_gunicorn_starts_the_metrics_folder_empty_and_marks_exited_workers_dead(
    tmp_path, monkeypatch
):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", DEPLOY / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"figures of a worker from before the restart")
    (folder / "gauge_livesum_4243.db").write_bytes(b"a live gauge of a worker that exits")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))

    conf.on_starting(server=None)
    assert list(folder.iterdir()) == []

    (folder / "gauge_livesum_4243.db").write_bytes(b"a live gauge of a worker that exits")
    conf.child_exit(server=None, worker=type("Worker", (), {"pid": 4243})())
    assert not (folder / "gauge_livesum_4243.db").exists()

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    conf.on_starting(server=None)  # without the setting, nothing to do
    conf.child_exit(server=None, worker=type("Worker", (), {"pid": 1})())
