"""Command-line front end shared by `manage.py imagemanager_emulator` and
`python -m imgdash.emulator` (the latter needs no Django at all)."""

import argparse
import datetime
import json
import logging
import signal
import sys
import threading

from .app import IDENTITY_ENDPOINT
from .faults import Fault, FaultSpecError
from .oidc import DEFAULT_REGISTRATION_SECRET
from .oidc_clients import DEMO_CLIENT, RegistrationError, client_from_metadata
from .server import EmulatorServer
from .state import StateFileError

DEFAULT_PORT = 8443  # the port a real cluster's management ingress listens on


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument(
        "--registry-port",
        type=int,
        default=None,
        metavar="PORT",
        help="also serve the registry v2 API on PORT (0 picks a free one); off by default",
    )
    parser.add_argument(
        "--anchor",
        type=_anchor,
        default=None,
        metavar="DATE",
        help="the seeded images were built in the two years before DATE (YYYY-MM-DD, UTC; "
        "default today; a state file keeps the one it was seeded with)",
    )
    parser.add_argument("--repos", type=int, default=200, help="repositories to seed (200)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data (1)")
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a generated CA and certificate"
    )
    parser.add_argument(
        "--tls-dir",
        metavar="DIR",
        help="keep the CA and certificate here and reuse them on the next start "
        "(default: a temporary directory)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="load repositories from FILE if it exists (else seed and write it); "
        "every change is written back atomically",
    )
    parser.add_argument(
        "--token-ttl",
        type=int,
        default=43200,
        metavar="SECONDS",
        help="lifetime of ID tokens (43200 = 12 hours)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="enable the /_emulator/ control endpoint (faults, reset); off by default",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='inject a fault, e.g. \'{"method": "GET", "path": "/repositories$", '
        '"status": 503, "times": 2}\' (repeatable)',
    )
    parser.add_argument(
        "--oidc-client",
        action="append",
        default=[],
        metavar="JSON",
        help="register an OpenID client at start, RFC 7591 metadata, e.g. "
        '\'{"client_id": "imgdash", "client_secret": "s3cret", "redirect_uris": '
        '["https://imgdash.example/oidc/callback/"]}\' (repeatable; default: the demo '
        f"client {DEMO_CLIENT['client_id']!r})",
    )
    parser.add_argument(
        "--oidc-registration-secret",
        default=DEFAULT_REGISTRATION_SECRET,
        metavar="SECRET",
        help="oauthadmin's password for POST /oidc/endpoint/OP/registration "
        f"({DEFAULT_REGISTRATION_SECRET!r}, for the demo only)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the emulator's address as clients reach it, which makes the OpenID "
        "provider's issuer (default: http(s)://HOST:PORT)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")


def _anchor(value):
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def parse_faults(values):
    """Fault objects from --fault JSON strings; ValueError with a readable message."""
    faults = []
    for value in values:
        try:
            faults.append(Fault.from_spec(json.loads(value)))
        except (json.JSONDecodeError, FaultSpecError) as exc:
            raise ValueError(f"--fault {value!r}: {exc}") from None
    return faults


def parse_oidc_clients(values):
    """Client registrations from --oidc-client JSON strings (the demo client if none)."""
    if not values:
        return [client_from_metadata(DEMO_CLIENT)]
    clients = []
    for value in values:
        try:
            clients.append(client_from_metadata(json.loads(value)))
        except (json.JSONDecodeError, RegistrationError) as exc:
            raise ValueError(f"--oidc-client {value!r}: {exc}") from None
    return clients


def build_server(options):
    return EmulatorServer(
        repos=options["repos"],
        seed=options["seed"],
        host=options["host"],
        port=options["port"],
        tls=options["tls"],
        tls_dir=options.get("tls_dir"),
        state_file=options.get("state"),
        token_ttl=options["token_ttl"],
        control=options["control"],
        faults=parse_faults(options.get("fault") or []),
        log_requests=not options.get("quiet"),
        oidc_clients=parse_oidc_clients(options.get("oidc_client") or []),
        oidc_registration_secret=options.get(
            "oidc_registration_secret", DEFAULT_REGISTRATION_SECRET
        ),
        public_url=options.get("public_url"),
        registry_port=options.get("registry_port"),
        anchor=options.get("anchor"),
    )


def describe(server):
    """What a person needs to point imgdash (or curl) at the running emulator."""
    lines = [
        f"Image Manager emulator: {len(server.repositories)} repositories",
        f"  API:            {server.api_url}",
        f"  Identity token: {server.url}{IDENTITY_ENDPOINT}",
        f"  OpenID issuer:  {server.oidc_url}",
    ]
    for client in server.oidc_clients:
        uris = ", ".join(client.redirect_uris)
        lines.append(f"  OpenID client:  {client.client_id} (redirect URIs: {uris})")
    if server.registry_port is not None:
        lines.append(f"  Registry (v2):  {server.registry_url}")
        lines.append(f"  Built before:   {server.anchor:%Y-%m-%d} (created dates: two years)")
    if server.ca_file:
        lines.append(f"  CA file:        {server.ca_file}")
    lines.append(f"  State:          {server.state_file or 'in memory'}")
    control = f"{server.url}/_emulator/" if server.control else "disabled (start with --control)"
    lines.append(f"  Control:        {control}")
    for fault in server.faults:
        lines.append(f"  Fault:          {json.dumps(fault.to_dict())}")
    lines.append("Users (username / password: role):")
    width = max(len(name) for name in server.users) if server.users else 0
    for user in server.users.values():
        credentials = f"{user.username:<{width}} / {user.password:<{width}}"
        lines.append(f"  {credentials}  {user.describe()}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def serve(server, stdout, quiet=False):
    """Start the emulator, print where it is, serve until Ctrl-C or SIGTERM."""
    if not quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access = logging.getLogger("imgdash.emulator.access")
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    if threading.current_thread() is threading.main_thread():
        # Whoever started us (the demo command, a process manager) stops us with SIGTERM.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            server.start()
        except OSError as exc:
            where = f"{server.host}:{server.port}"
            raise OSError(f"cannot listen on {where}: {exc.strerror or exc}") from exc
        stdout.write(describe(server) + "\n")
        stdout.flush()
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _interrupt(signum, frame):
    # One request to stop is enough; a second one must not cut the shutdown short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m imgdash.emulator",
        description="Run the embedded IBM Cloud Private Image Manager emulator.",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        server = build_server(options)
        serve(server, sys.stdout, quiet=options["quiet"])
    except (ValueError, StateFileError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
