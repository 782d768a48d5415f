"""The emulator on a real socket: a threaded HTTP/1.1 server (keep-alive, optional TLS)
around the WSGI app; each connection is served by connection.py.

    server = EmulatorServer(repos=60, seed=7, control=True).start()
    requests.get(server.api_url + "/repositories",
                 headers={"Authorization": "Bearer " + server.issue_id_token("admin")})
    server.faults.add(path=r"/repositories$", status=503, times=2)
    server.reset()   # seeded repositories back, faults and request log cleared
    server.stop()

The users it knows are listed in the package's docstring (imgdash/emulator/__init__.py).
"""

import contextlib
import logging
import shutil
import tempfile
import threading
from pathlib import Path

from .app import API, ImageManagerApp
from .connection import HTTPServer
from .faults import FaultSet
from .images import default_anchor
from .oidc import DEFAULT_REGISTRATION_SECRET, OP_PATH
from .oidc_clients import Client, client_from_metadata
from .registry import RegistryApp
from .requestlog import RequestLog
from .seed import generate_repositories
from .state import RepositoryStore
from .tls import ensure_certificates
from .tokens import DEFAULT_ID_TOKEN_TTL, TokenIssuer, generate_key, load_or_create_key
from .users import build_users

logger = logging.getLogger("imgdash.emulator")


class EmulatorServer:
    """An Image Manager emulator serving over HTTP(S) from background threads.

    repos, seed: how many repositories to seed, deterministically (ignored when `state_file`
    exists: its repositories are loaded instead). port 0 picks a free port. tls: serve HTTPS
    with a CA and certificate generated into `tls_dir` (a temporary directory if None).
    state_file: persist every change to this JSON file (atomically). token_ttl: lifetime of
    ID tokens in seconds. control: serve the `/_emulator/` control endpoint. users: mapping
    username -> {"password", "roles"} replacing the default users. faults: fault specs
    active from the start. log_requests: log one line per request to
    `imgdash.emulator.access`. registry_port: also serve the registry v2 API on this port
    (0 picks a free one; None, the default, serves none), over the same repositories,
    tokens, faults and request log. anchor: the aware datetime the seeded images' created
    dates end at (default today 00:00 UTC; a state file keeps its own).

    The OpenID provider (`oidc_url`): oidc_clients, clients registered from the start
    (RFC 7591 metadata dicts: client_id, client_secret, redirect_uris,
    post_logout_redirect_uris); oidc_registration_secret, oauthadmin's password for
    `POST .../registration`; public_url, the emulator's address as clients reach it
    (default: `url`), which makes the provider's issuer.

    `repositories` is the emulator's RepositoryStore, to read or change directly.
    """

    def __init__(
        self,
        repos=200,
        seed=1,
        host="127.0.0.1",
        port=0,
        tls=False,
        tls_dir=None,
        state_file=None,
        token_ttl=DEFAULT_ID_TOKEN_TTL,
        control=False,
        users=None,
        faults=(),
        log_requests=False,
        oidc_clients=(),
        oidc_registration_secret=DEFAULT_REGISTRATION_SECRET,
        public_url=None,
        registry_port=None,
        anchor=None,
    ):
        self.host = host
        self.port = port
        self.registry_port = registry_port
        self.seed = seed
        self.tls = tls
        self.tls_dir = Path(tls_dir) if tls_dir else None
        self.control = control
        self.log_requests = log_requests
        self.state_file = Path(state_file) if state_file else None
        self.public_url = public_url.rstrip("/") if public_url else None
        clients = [c if isinstance(c, Client) else client_from_metadata(c) for c in oidc_clients]
        self._initial_clients = clients

        self.users = build_users(users)
        self._initial_users = build_users(self.users)  # a deep copy, for reset()
        if self.state_file:
            # Keep the signing key beside the state so tokens survive a restart, as they
            # would on a real cluster.
            key = load_or_create_key(self.state_file.with_name(self.state_file.name + ".key.pem"))
        else:
            key = generate_key()
        self.tokens = TokenIssuer(key, id_token_ttl=token_ttl)

        if self.state_file and self.state_file.exists():
            self.repositories = RepositoryStore.load(self.state_file)
            if self.repositories.anchor is None:
                # Saved before the registry existed: its config digests match no blob the
                # registry can rebuild, so those answer 404 (as after garbage collection).
                self.repositories.anchor = anchor or default_anchor()
        else:
            anchor = anchor or default_anchor()
            self.repositories = RepositoryStore(
                generate_repositories(repos, seed, anchor), self.state_file, anchor
            )
            if self.state_file:
                self.repositories.save()
        self.anchor = self.repositories.anchor
        self._pristine = self.repositories.snapshot()

        self.faults = FaultSet(faults)
        self.requests = RequestLog()
        self._in_flight = 0
        self._idle = threading.Condition()
        self.app = ImageManagerApp(
            self.repositories,
            self.users,
            self.tokens,
            faults=self.faults,
            requests=self.requests,
            control=control,
            on_reset=self.reset,
            oidc_clients=clients,
            registration_secret=oidc_registration_secret,
        )
        self.registry_app = None  # made on start(), when the API's URL is known
        self.tls_files = None
        self._temp_tls_dir = None
        self._httpd = None
        self._thread = None
        self._registry = None

    # -- what clients need ---------------------------------------------------------------

    @property
    def url(self):
        if self._httpd is None:
            raise RuntimeError("the emulator is not running: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def api_url(self):
        return self.url + API

    @property
    def oidc_url(self):
        """The OpenID provider's issuer; discovery is below it, at
        `/.well-known/openid-configuration`."""
        return (self.public_url or self.url) + OP_PATH

    @property
    def oidc_clients(self):
        """The OpenID provider's ClientRegistry (register(), get())."""
        return self.app.oidc.clients

    @property
    def registry_url(self):
        """scheme://host:port of the registry v2 API (start with registry_port set)."""
        if self._registry is None:
            raise RuntimeError("the registry is not running: start with registry_port")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.registry_port}"

    @property
    def registry_host(self):
        """host:port of the registry, as a cluster record names it."""
        return self.registry_url.split("://", 1)[1]

    @property
    def ca_file(self):
        return str(self.tls_files.ca_file) if self.tls_files else None

    @property
    def ca_pem(self):
        return self.tls_files.ca_pem if self.tls_files else None

    def issue_id_token(self, username, ttl=None):
        """An ID token for a known user, as the identity provider would issue it; a
        negative ttl gives one that has already expired."""
        return self.tokens.issue_id_token(self.users[username], ttl)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self):
        if self._httpd is not None:
            return self
        context = None
        if self.tls:
            directory = self.tls_dir
            if directory is None:
                directory = self._temp_tls_dir = tempfile.mkdtemp(prefix="imgdash-emulator-tls-")
            self.tls_files = ensure_certificates(directory, self.host)
            context = self.tls_files.server_context()
        self._httpd = HTTPServer((self.host, self.port), self, context)
        self.port = self._httpd.server_address[1]
        self.tokens.op_issuer = self.oidc_url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"imagemanager-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if self.registry_port is not None:
            self.registry_app = RegistryApp(
                self.repositories, self.tokens, self.api_url, self.anchor
            )
            self._registry = _RegistryServer(self, context)
        return self

    def stop(self):
        if self._httpd is None:
            return
        if self._registry is not None:
            self._registry.stop()
            self._registry = None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join(timeout=5)
        self._httpd = None
        if self._temp_tls_dir:
            shutil.rmtree(self._temp_tls_dir, ignore_errors=True)
            self._temp_tls_dir = None

    def wait(self):
        """Block until the server stops (from another thread, or never)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def serve_until_interrupted(self):
        """Start, block until Ctrl-C (KeyboardInterrupt), then stop."""
        try:
            self.start()
            self.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @contextlib.contextmanager
    def handling(self):
        """Count a request as in flight while it is being answered."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout=10):
        """Wait until no request is in flight; False if some still are after `timeout` s.

        A request slowed by a latency fault goes on after its client gave up; reset() waits
        for it, so its late change cannot land in the next test's fresh state.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def reset(self):
        """Back to the repositories as seeded (or loaded), no faults, an empty request log,
        the OpenID clients registered at the start and no sessions, codes or tokens."""
        self.wait_idle()
        self.repositories.restore(self._pristine)
        self.faults.clear()
        self.requests.clear()
        self.users.clear()
        self.users.update(build_users(self._initial_users))
        self.app.oidc.clients.replace(self._initial_clients)
        self.app.oidc.grants.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        where = self.url if self._httpd else "not running"
        return f"<EmulatorServer {where}, {len(self.repositories)} repositories>"


class _RegistryServer:
    """The registry on its own port: what connection.py needs of an emulator, with the
    registry app in place of the API (and no control endpoint)."""

    control = False

    def __init__(self, emulator, context):
        self.emulator = emulator
        self.app = emulator.registry_app
        self.faults = emulator.faults
        self.requests = emulator.requests
        self.host = emulator.host
        self.log_requests = emulator.log_requests
        self.handling = emulator.handling
        self._httpd = HTTPServer((emulator.host, emulator.registry_port), self, context)
        emulator.registry_port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"registry-emulator-{emulator.registry_port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join(timeout=5)
