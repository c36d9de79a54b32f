"""Settings for collab, read from the environment in this one place.

Defaults give the embedded local setup (SQLite, in-memory channel layer, Celery tasks run
in-process). Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production-0123456789"

PORT = env_int("PORT", 8000)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    [f"http://127.0.0.1:{PORT}", f"http://localhost:{PORT}"] if DEBUG else [],
)

# Exact origins allowed to open the WebSocket (no wildcards, no subdomain patterns).
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS", CSRF_TRUSTED_ORIGINS)
for _origin in WS_ALLOWED_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in {"http", "https"} or not _parts.hostname or "*" in _origin:
        raise ImproperlyConfigured(f"WS_ALLOWED_ORIGINS entries must be exact origins: {_origin!r}")

INSTALLED_APPS = [
    "daphne",
    "collab.commands",  # before django.contrib.auth: its changepassword goes through the services
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "documents.logcontext.RequestIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "documents.guests.GuestMiddleware",
    "documents.accounts.SessionDeviceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "collab.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "collab.urls"
ASGI_APPLICATION = "collab.asgi.application"
WSGI_APPLICATION = "collab.wsgi.application"

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
                "documents.accounts.account_links",
                "documents.build.context",
                "documents.guests.guest_context",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    # One test database per test run, so two runs on one server never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
else:
    _sqlite_path = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _sqlite_path,
            # A file, not memory, so that server processes started by tests share it (they are
            # given its path); one per test run, so concurrent runs in one checkout stay apart.
            "TEST": {"NAME": _sqlite_path.with_name(f"test-{os.getpid()}-{_sqlite_path.name}")},
            # WAL lets readers work while a commit is in progress; IMMEDIATE takes the write lock
            # up front, so concurrent submits queue instead of failing mid-transaction.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels and Celery ----------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL.startswith("rediss://") and "ssl_cert_reqs=" not in REDIS_URL:
    # Celery refuses a TLS URL without this, and Heroku Redis presents a self-signed
    # certificate, so Heroku sets REDIS_SSL_CERT_REQS=none (see docs/operations.md).
    _cert_reqs = os.environ.get("REDIS_SSL_CERT_REQS", "required")
    if _cert_reqs not in {"required", "optional", "none"}:
        raise ImproperlyConfigured("REDIS_SSL_CERT_REQS must be required, optional or none.")
    REDIS_URL += ("&" if "?" in REDIS_URL else "?") + f"ssl_cert_reqs={_cert_reqs}"
# Pub/sub channels are named under this prefix: Redis pub/sub ignores database numbers, so two
# deployments (or test databases) sharing one Redis must not hear each other. Empty: derived from
# the database's name.
COLLAB_PUBSUB_PREFIX = os.environ.get("COLLAB_PUBSUB_PREFIX", "")
# No Channels channel layer: connections hear committed ops, presence and access changes through
# documents.broadcast (one Redis pub/sub subscription per document and process), not through
# per-connection channels, which cost one Redis message per recipient and drop over capacity.
CHANNEL_LAYERS: dict[str, dict[str, object]] = {}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    # The embedded default runs tasks in-process, so no worker is needed.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
# A task whose whole worker died (no chance to requeue it) is delivered again after this many
# seconds unacknowledged: a little longer than the time limit, so a task still running is never
# handed to a second worker, and far shorter than Redis' default of one hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("COLLAB_CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60),
    # Workers look for tasks past that timeout every so many seconds. kombu's default looks only
    # on every 10th 10 s sweep, which would add up to 100 s to every redelivery.
    "unacked_restore_interval": env_int("COLLAB_CELERY_RESTORE_SECONDS", 10),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On SIGTERM (with REMAP_SIGTERM=SIGQUIT, as the Procfile runs the worker) running tasks get this
# many seconds to finish; then the rest are cancelled and requeued (acks late) for another worker.
# Below the platform's grace period (Heroku: 30 s before SIGKILL).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = float(os.environ.get("COLLAB_CELERY_SOFT_SHUTDOWN_SECONDS", "20"))
CELERY_BEAT_SCHEDULE = {
    "snapshot-idle-documents": {
        "task": "documents.tasks.snapshot_idle_documents",
        "schedule": env_int("COLLAB_IDLE_SNAPSHOT_SECONDS", 300),
    },
    "compact-old-operations": {
        "task": "documents.tasks.compact_old_operations",
        "schedule": 24 * 3600,
    },
    "purge-expired-trash": {
        "task": "documents.tasks.purge_expired_trash",
        "schedule": env_int("COLLAB_TRASH_PURGE_SECONDS", 3600),
    },
}

# --- Collaboration limits ---------------------------------------------------------------------

# A frame above this is refused with a soft reject, so the client does not resend it forever.
COLLAB_MAX_MESSAGE_BYTES = env_int("COLLAB_MAX_MESSAGE_BYTES", 256 * 1024)
# In UTF-16 code units, as the browser counts.
COLLAB_MAX_DOCUMENT_LENGTH = env_int("COLLAB_MAX_DOCUMENT_LENGTH", 1_000_000)
# Limits on one op's shape, so a single delta cannot exhaust CPU or memory.
COLLAB_MAX_OP_COMPONENTS = env_int("COLLAB_MAX_OP_COMPONENTS", 10_000)
COLLAB_MAX_ATTRIBUTES = env_int("COLLAB_MAX_ATTRIBUTES", 32)
# Notification email waits this long, so a burst of comments arrives as one message.
COLLAB_NOTIFICATION_EMAIL_DELAY_SECONDS = env_int("COLLAB_NOTIFICATION_EMAIL_DELAY_SECONDS", 120)
# The site's address for links in email (no request to take it from in a task).
COLLAB_PUBLIC_URL = os.environ.get("COLLAB_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# A comment is a remark, not a document: long enough for a paragraph of reasons.
COLLAB_MAX_COMMENT_LENGTH = env_int("COLLAB_MAX_COMMENT_LENGTH", 10_000)
# Per connection: sustained ops per second, and the burst allowed on top.
COLLAB_OP_RATE = env_int("COLLAB_OP_RATE", 50)
COLLAB_OP_BURST = env_int("COLLAB_OP_BURST", 200)
COLLAB_PRESENCE_RATE = env_int("COLLAB_PRESENCE_RATE", 20)
COLLAB_PRESENCE_BURST = env_int("COLLAB_PRESENCE_BURST", 60)
COLLAB_MAX_SUBSCRIPTIONS = env_int("COLLAB_MAX_SUBSCRIPTIONS", 100)
# Live connections one document may have across all processes (0: no cap); those already in it
# stay, a newcomer is refused with close code 4409.
COLLAB_MAX_CONNECTIONS_PER_DOCUMENT = env_int("COLLAB_MAX_CONNECTIONS_PER_DOCUMENT", 0)
# Seconds an import's parser may run (in its own process) before it is stopped; files within
# the size limits parse in a few seconds even when built to be slow (docs/reliability.md).
COLLAB_IMPORT_TIME_LIMIT = env_int("COLLAB_IMPORT_TIME_LIMIT", 20)
# The garbage collector's thresholds in a web process, after start-up is frozen out of its way
# (documents/collector.py); empty leaves CPython's defaults and freezes nothing.
COLLAB_GC_THRESHOLD = [
    int(part) for part in os.environ.get("COLLAB_GC_THRESHOLD", "20000,10,10").split(",") if part.strip()
]
# How often a connection checks its documents' versions and its session (heals dropped broadcasts).
COLLAB_SYNC_INTERVAL_SECONDS = float(os.environ.get("COLLAB_SYNC_INTERVAL_SECONDS", "10"))
# Reads (f, s, bf, bs, nf, nt) per connection per second, and the burst on top: each may cost a
# database read and a reply as large as the document.
COLLAB_READ_RATE = env_int("COLLAB_READ_RATE", 20)
COLLAB_READ_BURST = env_int("COLLAB_READ_BURST", 100)
# Ops of catch-up (`f`/`s` with a version) per connection per second, and the burst: a reconnecting
# client is served at once, one asking for a long history again and again waits.
COLLAB_CATCH_UP_RATE = env_int("COLLAB_CATCH_UP_RATE", 2000)
COLLAB_CATCH_UP_BURST = env_int("COLLAB_CATCH_UP_BURST", 20000)
# Catch-up is read and sent this many ops at a time, one chunk at a time per process, with the
# event loop running between chunks (documents.consumers.sharedb._op_chunks).
COLLAB_CATCH_UP_CHUNK = env_int("COLLAB_CATCH_UP_CHUNK", 100)
# A fetch or subscribe more ops behind than this is answered ERR_CATCH_UP_TOO_LONG (the page loads
# the document afresh, one snapshot), unless the connection has resent an op that old: a client
# with unsent edits needs every op since to rebase them, and gets them in chunks.
COLLAB_MAX_CATCH_UP = env_int("COLLAB_MAX_CATCH_UP", 5000)
# How often each server process compares the documents it serves with the database: a gap (an op
# lost by pub/sub) is repaired within two sweeps, and access is re-read from the database.
COLLAB_HUB_SWEEP_SECONDS = float(os.environ.get("COLLAB_HUB_SWEEP_SECONDS", "0.5"))
# Threads (and so database connections) per web process that commit ops; reads use others.
COLLAB_COMMIT_THREADS = env_int("COLLAB_COMMIT_THREADS", 6)
# How long an op is held while the database is unreachable before its client is asked to resend.
COLLAB_SUBMIT_HOLD_SECONDS = float(os.environ.get("COLLAB_SUBMIT_HOLD_SECONDS", "20"))
# Presence at a version older than this many ops is refused; the client re-sends it at head.
COLLAB_MAX_PRESENCE_LAG = env_int("COLLAB_MAX_PRESENCE_LAG", 1000)
# Outgoing frames queued for one connection beyond this many bytes: the reader is too slow, and is
# disconnected (it resyncs on reconnect).
COLLAB_MAX_QUEUED_BYTES = env_int("COLLAB_MAX_QUEUED_BYTES", 16 * 1024 * 1024)
# Serve WebSockets on the event loop itself instead of an ASGI application per connection
# (documents/consumers/native.py): a third of the memory per idle connection.
COLLAB_NATIVE_SOCKETS = env_bool("COLLAB_NATIVE_SOCKETS", True)
# A Celery snapshot is taken once this many ops have accumulated since the last one.
COLLAB_SNAPSHOT_EVERY = env_int("COLLAB_SNAPSHOT_EVERY", 100)
# Ops older than this many days are folded into snapshots (0 keeps every op forever). It is also
# the guaranteed reconnect window: a client offline for longer must reload the document.
COLLAB_OP_RETENTION_DAYS = env_int("COLLAB_OP_RETENTION_DAYS", 0)
# A deleted document stays in its owner's trash (restorable) this many days, then the beat task
# purges it for good (0 keeps trashed documents until someone restores or an operator purges them).
COLLAB_TRASH_DAYS = env_int("COLLAB_TRASH_DAYS", 30)

# --- Operations -------------------------------------------------------------------------------

# A scraper sends "Authorization: Bearer <token>" for /metrics; staff sessions need none.
COLLAB_METRICS_TOKEN = os.environ.get("COLLAB_METRICS_TOKEN", "")
# Without PROMETHEUS_MULTIPROC_DIR, each process publishes its metrics to Redis this often, and a
# scrape of any process serves the sum of all (documents.metrics_redis): a scrape sees others'
# values at most this old.
COLLAB_METRICS_PUBLISH_SECONDS = float(os.environ.get("COLLAB_METRICS_PUBLISH_SECONDS", "5"))
# /readyz waits at most this long for the database and Redis before answering 503.
COLLAB_READY_TIMEOUT_SECONDS = float(os.environ.get("COLLAB_READY_TIMEOUT_SECONDS", "2"))
# Names the editor bundle this server hands out (e.g. the commit); unset: a hash of the bundle.
# A page of another build is told to reload once its edits are saved.
COLLAB_BUILD_ID = os.environ.get("COLLAB_BUILD_ID", "")
# On SIGTERM, how long a web process waits for in-flight commits before closing its sockets;
# under the platform's grace period (30 s on Heroku) so the acks go out before SIGKILL.
COLLAB_SHUTDOWN_SECONDS = float(os.environ.get("COLLAB_SHUTDOWN_SECONDS", "20"))

# --- Auth, static files, security -------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "document-list"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Who may create an account: "open" (anyone), "invite" (only someone holding an invitation sent
# by email), "domains" (emails under COLLAB_SIGNUP_DOMAINS), or "closed" (operators only).
# Production defaults to "invite"; the embedded default is open.
COLLAB_SIGNUP = os.environ.get("COLLAB_SIGNUP", "open" if DEBUG else "invite").strip().lower()
COLLAB_SIGNUP_DOMAINS = [domain.lower().lstrip("@") for domain in env_list("COLLAB_SIGNUP_DOMAINS", [])]
if COLLAB_SIGNUP not in {"open", "invite", "domains", "closed"}:
    raise ImproperlyConfigured("COLLAB_SIGNUP must be open, invite, domains or closed.")
if COLLAB_SIGNUP == "domains" and not COLLAB_SIGNUP_DOMAINS:
    raise ImproperlyConfigured("COLLAB_SIGNUP=domains needs COLLAB_SIGNUP_DOMAINS (comma-separated).")

# "Anyone with the link": owners may turn on a secret link that lets people in without an account
# (as guests with a generated name). 0 switches it off for the whole site: no link opens, and
# everyone who came through one loses access at once.
COLLAB_GUEST_LINKS = env_bool("COLLAB_GUEST_LINKS", True)
# Guests one document may have (0: no cap), and their ops per second per connection (the burst on
# top): below a member's, since anyone holding the link is one.
COLLAB_MAX_GUESTS_PER_DOCUMENT = env_int("COLLAB_MAX_GUESTS_PER_DOCUMENT", 200)
COLLAB_GUEST_OP_RATE = env_int("COLLAB_GUEST_OP_RATE", 20)
COLLAB_GUEST_OP_BURST = env_int("COLLAB_GUEST_OP_BURST", 60)

# Days an emailed invitation stays valid (it is also used up by its first acceptance).
COLLAB_INVITATION_DAYS = env_int("COLLAB_INVITATION_DAYS", 7)

ACCOUNT_ADAPTER = "documents.accounts.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "documents.accounts.SocialAccountAdapter"
# Optional second factor, set up by each person on /accounts/2fa/: an authenticator app, with
# recovery codes for a lost phone.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "collab"
# One 30-second step either way, for phones whose clocks drift.
MFA_TOTP_TOLERANCE = 1
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# New accounts sign in only once their address is confirmed; accounts made by an operator have no
# address to confirm and are exempt (documents.accounts.EmailVerificationStage).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[collab] "
# Attempts per client address (and per account for sign-in), counted in the cache, so a Redis
# deployment counts across processes.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
    # Guest accounts made through guest links, per client address.
    "guest_join": "10/m/ip,60/h/ip",
}
# Single sign-on through one OpenID Connect issuer (Google, Microsoft, Okta, Keycloak, ...): its
# URL, the client registered there, the button's label, and the email domains whose people may
# get an account through it (empty: everyone the issuer signs in).
COLLAB_OIDC_ISSUER = os.environ.get("COLLAB_OIDC_ISSUER", "").rstrip("/")
COLLAB_OIDC_NAME = os.environ.get("COLLAB_OIDC_NAME", "your company account")
COLLAB_OIDC_DOMAINS = [domain.lower().lstrip("@") for domain in env_list("COLLAB_OIDC_DOMAINS", [])]
SOCIALACCOUNT_PROVIDERS: dict[str, object] = {}
if COLLAB_OIDC_ISSUER:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "sso",
                "name": COLLAB_OIDC_NAME,
                "client_id": os.environ.get("COLLAB_OIDC_CLIENT_ID", ""),
                "secret": os.environ.get("COLLAB_OIDC_CLIENT_SECRET", ""),
                "settings": {"server_url": COLLAB_OIDC_ISSUER},
            }
        ],
    }
# An SSO sign-in never takes over an existing account because the addresses match; accounts are
# made at once (no extra form), and only a POST starts the round trip.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_ONLY = False

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


def email_settings(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings from one URL: smtp:// (STARTTLS), smtps:// (TLS), console:, file:/dir."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parts.path,
        }
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://user:password@host:587 or smtps://...:465."
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 587),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp" and "tls=0" not in parts.query,
        "EMAIL_TIMEOUT": 20,
    }


# Mail (sign-up confirmations, invitations, password resets) is sent by Celery tasks with retries.
# The embedded default prints it on the console; production needs EMAIL_URL unless it sends none.
EMAIL_URL = os.environ.get("EMAIL_URL", "" if not DEBUG else "console:")
COLLAB_PASSWORD_RESET_BY_EMAIL = env_bool("COLLAB_PASSWORD_RESET_BY_EMAIL", True)
if EMAIL_URL:
    globals().update(email_settings(EMAIL_URL))
elif COLLAB_PASSWORD_RESET_BY_EMAIL or COLLAB_SIGNUP != "closed":
    raise ImproperlyConfigured(
        "EMAIL_URL is not set, but sign-up (COLLAB_SIGNUP) or password reset "
        "(COLLAB_PASSWORD_RESET_BY_EMAIL) sends email. Set EMAIL_URL=smtp://user:password@host:587, "
        "or set COLLAB_SIGNUP=closed and COLLAB_PASSWORD_RESET_BY_EMAIL=0."
    )
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "collab <noreply@localhost>")
# Seconds between tries of a mail that could not be handed to the mail server, and how many tries.
COLLAB_EMAIL_RETRY_SECONDS = env_int("COLLAB_EMAIL_RETRY_SECONDS", 30)
COLLAB_EMAIL_MAX_RETRIES = env_int("COLLAB_EMAIL_MAX_RETRIES", 8)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the built assets the app serves (WhiteNoise).
STATIC_ROOT = Path(os.environ.get("COLLAB_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]
# Uploaded images: files under MEDIA_ROOT by default, an S3-compatible bucket when
# COLLAB_S3_BUCKET is set (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, any
# endpoint through AWS_S3_ENDPOINT_URL). Either way the app serves them itself, after an access
# check: no storage URL is ever handed out, so the bucket stays private.
MEDIA_ROOT = Path(os.environ.get("COLLAB_MEDIA_ROOT", BASE_DIR / "media"))
COLLAB_S3_BUCKET = os.environ.get("COLLAB_S3_BUCKET", "")
_DEFAULT_STORAGE: dict[str, Any] = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": COLLAB_S3_BUCKET,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if COLLAB_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
# An image upload's largest size, before re-encoding.
COLLAB_MAX_IMAGE_BYTES = env_int("COLLAB_MAX_IMAGE_BYTES", 10 * 1024 * 1024)
# Images one document may hold (uploads and imports together), so one editor cannot fill the storage.
COLLAB_MAX_IMAGES_PER_DOCUMENT = env_int("COLLAB_MAX_IMAGES_PER_DOCUMENT", 1000)
# Seconds a PDF export may render (in its own process, like an import) before it is stopped.
COLLAB_EXPORT_TIME_LIMIT = env_int("COLLAB_EXPORT_TIME_LIMIT", 60)
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# TLS ends at the platform's router, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = 31_536_000 if SECURE_SSL_REDIRECT else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL_REDIRECT
SECURE_HSTS_PRELOAD = SECURE_SSL_REDIRECT
# The JSON API answers a CSRF failure with a JSON error; other pages keep Django's.
CSRF_FAILURE_VIEW = "documents.api.csrf_failure"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# plain: one text line per record; json: one JSON object per line, with the connection, user,
# document and request ids as fields (documents.logcontext).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "documents.logcontext.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
