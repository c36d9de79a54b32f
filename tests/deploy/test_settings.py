"""Production settings: `check --deploy` is clean, they fail loudly, and plain HTTP is opt-in."""

import json
import sys
from pathlib import Path
from typing import Any

from .conftest import production_env, run

# Asks the production configuration for a few pages through Django's test client, in a child
# process so that the settings module is read afresh with the given environment.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="collab.example.com")
out = {
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
}
for name, extra in [("plain", {}), ("forwarded_https", {"HTTP_X_FORWARDED_PROTO": "https"})]:
    response = client.get("/healthz", **extra)
    out[name] = {
        "status": response.status_code,
        "location": response.get("Location"),
        "hsts": response.get("Strict-Transport-Security"),
        "body": response.content.decode() if response.status_code == 200 else None,
    }
print(json.dumps(out))
"""


def probe(env: dict[str, str]) -> dict[str, Any]:
    result = run([sys.executable, "-c", PROBE], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_check_deploy_passes_without_warnings(frontend_dist: Path) -> None:
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env()
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "ERROR" not in output


def test_check_deploy_catches_an_insecure_configuration(frontend_dist: Path) -> None:
    """The check has teeth: the same command fails when a production guard is switched off."""
    env = production_env(SECURE_SSL_REDIRECT="0")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_debug_off_without_secret_key_fails_clearly() -> None:
    for secret in (None, ""):
        env = production_env(SECRET_KEY=secret)  # type: ignore[arg-type]
        result = run([sys.executable, "manage.py", "check"], env)
        assert result.returncode != 0
        assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_production_redirects_plain_http_and_trusts_the_router() -> None:
    out = probe(production_env())
    assert out["session_cookie_secure"] and out["csrf_cookie_secure"]
    assert out["plain"]["status"] == 301
    assert out["plain"]["location"] == "https://collab.example.com/healthz"
    # The platform's router terminates TLS and says so in X-Forwarded-Proto.
    assert out["forwarded_https"]["status"] == 200 and out["forwarded_https"]["body"] == "ok"
    assert out["forwarded_https"]["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_secure_ssl_redirect_off_serves_plain_http() -> None:
    out = probe(production_env(SECURE_SSL_REDIRECT="0"))
    assert out["plain"]["status"] == 200 and out["plain"]["body"] == "ok"
    assert out["plain"]["location"] is None and out["plain"]["hsts"] is None
    # Secure cookies would never come back over http://, so they are off too.
    assert not out["session_cookie_secure"] and not out["csrf_cookie_secure"]


def test_tls_redis_url_works_with_heroku_redis_certificates() -> None:
    """Heroku Redis gives a rediss:// URL with a self-signed certificate; Celery must accept it."""
    code = (
        "import django; django.setup(); from django.conf import settings; from collab.celery import app; "
        "backend = app.backend; "
        "print(settings.CELERY_BROKER_URL, settings.REDIS_URL, "
        "type(backend).__name__)"
    )
    env = production_env(REDIS_URL="rediss://:pw@redis.example.com:6380", REDIS_SSL_CERT_REQS="none")
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr[-3000:]
    url = "rediss://:pw@redis.example.com:6380?ssl_cert_reqs=none"
    assert result.stdout.split() == [url, url, "RedisBackend"]
    # Without the setting, certificates are verified (the safe default).
    result = run([sys.executable, "-c", code], production_env(REDIS_URL="rediss://redis.example.com:6380/0"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[0] == "rediss://redis.example.com:6380/0?ssl_cert_reqs=required"


def test_production_without_mail_fails_clearly_unless_nothing_sends_mail() -> None:
    result = run([sys.executable, "manage.py", "check"], production_env(EMAIL_URL=None))  # type: ignore[arg-type]
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL is not set, but sign-up" in result.stderr
    quiet = production_env(EMAIL_URL=None, COLLAB_SIGNUP="closed", COLLAB_PASSWORD_RESET_BY_EMAIL="0")  # type: ignore[arg-type]
    assert run([sys.executable, "manage.py", "check"], quiet).returncode == 0


def test_mail_and_sign_up_settings_come_from_the_environment() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; import json; "
        "print(json.dumps([s.COLLAB_SIGNUP, s.COLLAB_SIGNUP_DOMAINS, s.EMAIL_BACKEND, s.EMAIL_HOST, "
        "s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL]))"
    )
    default = run([sys.executable, "-c", code], production_env())
    assert json.loads(default.stdout)[:3] == ["invite", [], "django.core.mail.backends.smtp.EmailBackend"]
    env = production_env(
        COLLAB_SIGNUP="domains",
        COLLAB_SIGNUP_DOMAINS="Example.org, @corp.example",
        EMAIL_URL="smtps://me%40x:p%2Fw@mail.example:465",
    )
    assert json.loads(run([sys.executable, "-c", code], env).stdout) == [
        "domains", ["example.org", "corp.example"], "django.core.mail.backends.smtp.EmailBackend",
        "mail.example", 465, "me@x", "p/w", False, True,
    ]  # fmt: skip
    embedded = run([sys.executable, "-c", code], production_env(DEBUG="1", EMAIL_URL=None))  # type: ignore[arg-type]
    assert json.loads(embedded.stdout)[:3] == ["open", [], "django.core.mail.backends.console.EmailBackend"]


def test_images_go_to_an_s3_compatible_bucket_when_one_is_configured(tmp_path: Path) -> None:
    """No S3 service runs here, so this checks the wiring: which storage, which bucket, and private."""
    code = (
        "import django, json; django.setup(); from django.core.files.storage import storages; s = storages['default']; "
        "print(json.dumps([type(s).__module__ + '.' + type(s).__name__, getattr(s, 'bucket_name', None), "
        "getattr(s, 'endpoint_url', None), getattr(s, 'default_acl', None), getattr(s, 'file_overwrite', None)]))"
    )
    env = production_env(
        COLLAB_S3_BUCKET="collab-images",
        AWS_S3_ENDPOINT_URL="https://s3.example.net",
        AWS_ACCESS_KEY_ID="id",
        AWS_SECRET_ACCESS_KEY="secret",
    )
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "storages.backends.s3.S3Storage",
        "collab-images",
        "https://s3.example.net",
        "private",
        False,
    ]
    local = run([sys.executable, "-c", code], production_env(COLLAB_MEDIA_ROOT=str(tmp_path)))
    assert (
        json.loads(local.stdout.strip().splitlines()[-1])[0]
        == "django.core.files.storage.filesystem.FileSystemStorage"
    )
