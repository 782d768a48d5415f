"""imgdash settings: one file, read from the environment, loud on nonsense.

Every variable is listed in README.md's configuration reference. Production (IMGDASH_DEBUG
off) is secure by default; the demo command and the test suite turn on what they need.
Importing this file changes nothing on disk: the data folder and a local token key are made
where they are first needed (the core app's start-up, the token-key file's first use).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default, minimum=0):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envlist(name, default=""):
    return envlist_text(os.environ.get(name, default))


def envlist_text(text):
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]


DEBUG = envbool("IMGDASH_DEBUG")
# Set by `manage.py demo` before Django starts: a local, throw-away installation.
DEMO = envbool("IMGDASH_DEMO")
# Set by the test suite (pyproject.toml's pytest `env`): a local memory cache, fast hashing.
TESTING = envbool("IMGDASH_TESTING")
# Running on someone's own machine over plain HTTP: a developer, the demo or the tests. Never
# in production, where it would drop the secure-cookie and HTTPS settings below.
LOCAL = DEBUG or DEMO or TESTING

DATA_DIR = Path(os.environ.get("IMGDASH_DATA_DIR") or BASE_DIR / "data")

SECRET_KEY = os.environ.get("IMGDASH_SECRET_KEY", "")
if not SECRET_KEY:
    if not LOCAL:
        raise ImproperlyConfigured(
            "IMGDASH_SECRET_KEY is required when IMGDASH_DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-local-only-" + "x" * 50

ALLOWED_HOSTS = envlist("IMGDASH_ALLOWED_HOSTS")
if LOCAL:
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
elif not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "IMGDASH_ALLOWED_HOSTS is required when IMGDASH_DEBUG is off "
        "(comma-separated host names, e.g. imgdash.example.com)"
    )
CSRF_TRUSTED_ORIGINS = envlist("IMGDASH_CSRF_TRUSTED_ORIGINS")
for origin in CSRF_TRUSTED_ORIGINS:
    if not origin.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"IMGDASH_CSRF_TRUSTED_ORIGINS entries need a scheme, e.g. https://{origin}"
        )

# Fernet keys for cluster tokens at rest: the first encrypts, all decrypt (rotation).
TOKEN_KEYS = envlist("IMGDASH_TOKEN_KEYS")
# Without IMGDASH_TOKEN_KEYS a local installation keeps its own key in this file, made on first
# use; the tests use a key that lives only as long as the run.
TOKEN_KEYS_FILE = DATA_DIR / "token-keys"
if not TOKEN_KEYS and TESTING:
    from cryptography.fernet import Fernet

    TOKEN_KEYS = [Fernet.generate_key().decode()]
if not TOKEN_KEYS and not LOCAL:
    raise ImproperlyConfigured(
        "IMGDASH_TOKEN_KEYS is required when IMGDASH_DEBUG is off: comma-separated Fernet "
        "keys that encrypt users' cluster tokens. Generate one with: python -c "
        "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )
for _key in TOKEN_KEYS:
    try:
        from cryptography.fernet import Fernet

        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "IMGDASH_TOKEN_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes); check for a truncated or mistyped key"
        ) from None

# The action log's MAC keys: the first signs new rows, all verify (rotation). Never stored in
# the database, so write access to it is not enough to forge a row. Without IMGDASH_AUDIT_KEY
# a local installation keeps its own key in this file, made on first use; the tests use a key
# that lives only as long as the run.
AUDIT_KEYS = envlist("IMGDASH_AUDIT_KEY")
AUDIT_KEY_FILE = DATA_DIR / "audit-key"
if not AUDIT_KEYS and TESTING:
    import secrets

    AUDIT_KEYS = [secrets.token_urlsafe(32)]
if not AUDIT_KEYS and not LOCAL:
    raise ImproperlyConfigured(
        "IMGDASH_AUDIT_KEY is required when IMGDASH_DEBUG is off: comma-separated secret keys "
        "that sign the action log's chain (the first signs, all verify). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
for _key in AUDIT_KEYS:
    if len(_key) < 32:
        raise ImproperlyConfigured(
            "IMGDASH_AUDIT_KEY holds a key shorter than 32 characters; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )

# Where the head of the action log is anchored, outside the database: file:PATH (appended,
# 0600), syslog, stdout (for a log collector) or none. Every IMGDASH_AUDIT_ANCHOR_ROWS rows, or
# on the first row written IMGDASH_AUDIT_ANCHOR_MINUTES after the last anchor.
AUDIT_ANCHOR = os.environ.get("IMGDASH_AUDIT_ANCHOR", "").strip()
if not AUDIT_ANCHOR:
    # The tests roll their rows back: anchors of rows that never were would outlive them.
    AUDIT_ANCHOR = "none" if TESTING else f"file:{DATA_DIR / 'audit-anchors'}"
if AUDIT_ANCHOR.startswith("file:"):
    if not AUDIT_ANCHOR[len("file:") :].strip():
        raise ImproperlyConfigured(
            "IMGDASH_AUDIT_ANCHOR=file: needs a path, e.g. file:/var/log/imgdash/anchors"
        )
elif AUDIT_ANCHOR not in ("syslog", "stdout", "none"):
    raise ImproperlyConfigured(
        f"IMGDASH_AUDIT_ANCHOR must be file:PATH, syslog, stdout or none, not {AUDIT_ANCHOR!r}"
    )
AUDIT_ANCHOR_ROWS = envint("IMGDASH_AUDIT_ANCHOR_ROWS", 100, minimum=1)
AUDIT_ANCHOR_MINUTES = envint("IMGDASH_AUDIT_ANCHOR_MINUTES", 10, minimum=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    # Django's Tasks API (the django-tasks backport) and its queue in our own database.
    "django_tasks",
    "django_tasks_db",
    # imgdash's apps, lowest layer first: each imports only those above it in this list.
    "imgdash.audit",
    "imgdash.accounts",
    "imgdash.clusters",
    # Jobs sit between clusters and repositories: repositories' tasks make and run jobs.
    "imgdash.jobs",
    "imgdash.repositories",
    "imgdash.core",
    "imgdash.emulator",
    # After imgdash's apps, so a failed sign-in is logged before the lockout it causes.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "imgdash.core.middleware.RequestIdMiddleware",
    # Right after the request id: times and logs each request, whatever answers it.
    "imgdash.core.middleware.RequestLogMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "imgdash.core.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (it says why a session ended) and before any view runs.
    "imgdash.accounts.sessions.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imgdash.urls"
WSGI_APPLICATION = "imgdash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "imgdash.core.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'imgdash.sqlite3'}"
if not DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "DATABASE_URL must start with sqlite:// or postgres:// (e.g. "
        "postgres://user:password@host:5432/imgdash)"
    )
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: wait up to 20 s for the write lock instead
    # of failing, and journal in WAL mode, where readers (a slow export, a page) never block
    # a writer nor a writer them. `synchronous=NORMAL` is WAL's usual durability trade: a power
    # cut may lose the last commits, never corrupt the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every worker process, or a delete seen by one worker would leave the
# repository showing in another. Local memory is only safe inside one test process.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing is deliberately slow; the suite creates hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttled sign-in (django-axes): after LOCKOUT_FAILURES wrong passwords for one username
# from one client address, that pair is refused for LOCKOUT_COOLOFF seconds, counted from the
# last failure. Connect-by-password uses the same policy, keyed by cluster and cluster username.
AUTHENTICATION_BACKENDS = [
    "imgdash.accounts.lockout.LockoutBackend",
    # Django's ModelBackend, loading each request's user with their roles in one query.
    "imgdash.accounts.backends.UserBackend",
]
LOCKOUT_FAILURES = envint("IMGDASH_LOCKOUT_FAILURES", 5, minimum=1)
LOCKOUT_COOLOFF = envint("IMGDASH_LOCKOUT_COOLOFF", 15 * 60, minimum=1)
AXES_FAILURE_LIMIT = LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOCKOUT_COOLOFF)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address the action log records: IMGDASH_TRUSTED_PROXY_COUNT decides what to trust.
AXES_CLIENT_IP_CALLABLE = "imgdash.accounts.lockout.client_address"
AXES_USERNAME_CALLABLE = "imgdash.accounts.lockout.attempted_name"
AXES_LOCKOUT_CALLABLE = "imgdash.accounts.lockout.locked_out_response"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out neither count nor push the end of the lockout further away, so
# the time the page gives is the time it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Sign-ins are in the action log already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# "Sign in with <cluster>" (OpenID Connect): the token's groups claim maps to imgdash roles,
# "group=Role,group=Role"; a group may appear more than once to give several roles. Anyone
# else who signs in gets IMGDASH_OIDC_DEFAULT_ROLE ("none": no role until an admin grants one).
_OIDC_ROLES = ("Viewer", "Operator", "Auditor")


def oidc_role_map(text):
    """{group: {roles}} from "group=Role,group=Role"; ImproperlyConfigured on anything else."""
    mapping = {}
    for item in envlist_text(text):
        group, sep, role = (part.strip() for part in item.partition("="))
        if not sep or not group or role not in _OIDC_ROLES:
            raise ImproperlyConfigured(
                f"IMGDASH_OIDC_ROLE_MAP: {item!r} is not group=Role with Role one of "
                f"{', '.join(_OIDC_ROLES)} (e.g. cluster-admins=Operator,auditors=Auditor)."
            )
        mapping.setdefault(group, set()).add(role)
    return mapping


# The demo maps the emulator's groups, so "Sign in with Demo cluster" shows the map at work.
_DEMO_ROLE_MAP = (
    "cluster-admins=Operator,team-a-admins=Operator,team-b-admins=Operator,"
    "team-a-operators=Operator,auditors=Auditor,auditors=Viewer"
)
OIDC_ROLE_MAP = oidc_role_map(
    os.environ.get("IMGDASH_OIDC_ROLE_MAP", _DEMO_ROLE_MAP if DEMO else "")
)
OIDC_DEFAULT_ROLE = os.environ.get("IMGDASH_OIDC_DEFAULT_ROLE", "Viewer").strip()
if OIDC_DEFAULT_ROLE.lower() == "none":
    OIDC_DEFAULT_ROLE = None
elif OIDC_DEFAULT_ROLE not in _OIDC_ROLES:
    raise ImproperlyConfigured(
        f"IMGDASH_OIDC_DEFAULT_ROLE must be one of {', '.join(_OIDC_ROLES)} or none, "
        f"not {OIDC_DEFAULT_ROLE!r}."
    )
# A token from a sign-in is renewed with its refresh token this many seconds before it expires.
OIDC_RENEW_BEFORE = envint("IMGDASH_OIDC_RENEW_BEFORE", 300, minimum=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's target in production; locally whitenoise serves straight from static/.
STATIC_ROOT = None if LOCAL else BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if LOCAL
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from static/ in the demo and tests so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = LOCAL

# Security headers: on everywhere; the HTTPS-only ones when not in local debug/demo.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are kept in the database and read through the shared cache: a page reads its
# session from the cache (about 0.07 ms) rather than the database (about 0.8 ms); every
# write goes to both, and a session the cache has lost is read from the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# How long a sign-in lasts, from the moment of signing in, however active the user is.
SESSION_COOKIE_AGE = envint("IMGDASH_SESSION_AGE", 8 * 3600, minimum=300)
# A session unused this long ends sooner (activity is noted at most once a minute).
SESSION_IDLE_TIMEOUT = envint("IMGDASH_SESSION_IDLE", 3600, minimum=120)
SESSION_COOKIE_SECURE = not LOCAL
CSRF_COOKIE_SECURE = not LOCAL
SECURE_SSL_REDIRECT = envbool("IMGDASH_SSL_REDIRECT", not LOCAL)
SECURE_HSTS_SECONDS = 0 if LOCAL else envint("IMGDASH_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not LOCAL
SECURE_HSTS_PRELOAD = envbool("IMGDASH_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # Preloading commits the whole domain to HTTPS in every browser, for months; an internal
    # dashboard cannot make that choice for its domain. Opt in with IMGDASH_HSTS_PRELOAD=true.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if envbool("IMGDASH_BEHIND_PROXY"):
    # Only behind a TLS proxy that sets this header itself; otherwise clients could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A strict Content-Security-Policy: only our own scripts and styles, no inline code or eval
# (htmx is configured in base.html not to need either), no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# How many reverse proxies in front of imgdash append to X-Forwarded-For (for the action
# log's client IP). 0 trusts none: clients can write anything into that header.
TRUSTED_PROXY_COUNT = envint("IMGDASH_TRUSTED_PROXY_COUNT", 0)
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Upstream (Image Manager API) calls.
IMAGEMANAGER_CONNECT_TIMEOUT = envint("IMGDASH_CONNECT_TIMEOUT", 5, minimum=1)
IMAGEMANAGER_READ_TIMEOUT = envint("IMGDASH_READ_TIMEOUT", 60, minimum=1)
IMAGEMANAGER_MAX_RESPONSE_MB = envint("IMGDASH_MAX_RESPONSE_MB", 256, minimum=1)
# Wall-clock limits on one whole call (the timeouts above bound each wait on the socket):
# small calls should end before a proxy in front of imgdash gives up (gunicorn's default
# timeout is 30 s, nginx's 60 s); only the repository list, which may be huge, gets longer.
IMAGEMANAGER_CALL_DEADLINE = envint("IMGDASH_CALL_DEADLINE", 15, minimum=1)
IMAGEMANAGER_LIST_DEADLINE = envint("IMGDASH_LIST_DEADLINE", 60, minimum=1)
IMAGEMANAGER_MAX_REPOSITORIES = envint("IMGDASH_MAX_REPOSITORIES", 200_000, minimum=1)
REPOSITORY_INDEX_TTL = envint("IMGDASH_INDEX_TTL", 60, minimum=0)
# Registry facts (build dates, platforms, sizes of manifest lists, history) for the detail
# page: it waits this many milliseconds for the registry, then shows what arrived and fills
# in the rest by htmx; at most this many registry calls at once for one page.
REGISTRY_DEADLINE_MS = envint("IMGDASH_REGISTRY_DEADLINE_MS", 1500, minimum=100)
REGISTRY_CONCURRENCY = envint("IMGDASH_REGISTRY_CONCURRENCY", 4, minimum=1)
if REGISTRY_CONCURRENCY > 16:
    raise ImproperlyConfigured(
        f"IMGDASH_REGISTRY_CONCURRENCY must be 1 to 16, not {REGISTRY_CONCURRENCY}"
    )
# A digest the registry answered 404 for is asked again after this many seconds (garbage
# collection removes blobs for good, but a push in progress may not have uploaded it yet).
REGISTRY_MISSING_RETRY = envint("IMGDASH_REGISTRY_MISSING_RETRY", 86400, minimum=0)
# A registry crawl (the job and `manage.py crawl_registry`) sends at most this many requests
# per second to one cluster (its Image Manager API and its registry together).
try:
    REGISTRY_CRAWL_RATE = float(os.environ.get("IMGDASH_CRAWL_RATE") or 5)
except ValueError:
    raise ImproperlyConfigured(
        "IMGDASH_CRAWL_RATE must be a number of requests per second"
    ) from None
if not 0.1 <= REGISTRY_CRAWL_RATE <= 100:
    raise ImproperlyConfigured(
        f"IMGDASH_CRAWL_RATE must be 0.1 to 100 requests per second, not {REGISTRY_CRAWL_RATE}"
    )
# The list page waits this many seconds for a list being fetched before it answers with a
# progress view instead (the fetch goes on in the background): a small registry still shows
# its list at once, a large one never holds a page.
REPOSITORY_LIST_WAIT = envint("IMGDASH_LIST_WAIT", 2, minimum=0)

# Long work (bulk deletes) runs as jobs on Django's Tasks API, queued in the database and run
# by `python manage.py db_worker` processes (as many as you like, on any machine that reaches
# the database; they claim tasks with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# At most this many deletes in flight on one cluster, across every job and worker.
DELETE_CONCURRENCY = envint("IMGDASH_DELETE_CONCURRENCY", 2, minimum=1)
if DELETE_CONCURRENCY > 4:
    raise ImproperlyConfigured(
        f"IMGDASH_DELETE_CONCURRENCY must be 1 to 4, not {DELETE_CONCURRENCY}: more deletes "
        "at once than that only loads the cluster's registry"
    )
# A running job whose worker has shown no sign of life for this many seconds is interrupted:
# its worker died (or lost the database). Workers beat well within it, even during a slow call.
JOB_STALE_AFTER = envint("IMGDASH_JOB_STALE_AFTER", 60, minimum=5)

# /metrics answers only clients in these networks (the address the action log records, so
# behind a proxy set IMGDASH_TRUSTED_PROXY_COUNT); everyone else gets a 404.
METRICS_ALLOW = []
for _network in envlist("IMGDASH_METRICS_ALLOW", "127.0.0.0/8,::1/128"):
    try:
        METRICS_ALLOW.append(ipaddress.ip_network(_network, strict=False))
    except ValueError:
        raise ImproperlyConfigured(
            f"IMGDASH_METRICS_ALLOW holds {_network!r}, which is not an address or network "
            "(e.g. 10.0.0.0/8, 127.0.0.1)"
        ) from None
# Several gunicorn workers each count their own requests: with this folder set (made empty
# before gunicorn starts) prometheus-client sums every worker's figures on each scrape.
METRICS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# text: one plain line per record; json: one JSON object per line for a log collector, with
# the request id, user and cluster of the request it was written in.
LOG_FORMAT = os.environ.get("IMGDASH_LOG_FORMAT", "text").strip().lower() or "text"
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"IMGDASH_LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "imgdash.core.logs.RequestContextFilter"}},
    "formatters": {
        "text": {
            "()": "imgdash.core.logs.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "imgdash.core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("IMGDASH_LOG_LEVEL", "INFO")},
}
