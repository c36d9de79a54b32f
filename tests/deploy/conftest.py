"""Helpers for deploy tests: a production-like environment for child processes, and frontend/dist."""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent

# Every variable collab/settings.py reads, so the parent's environment cannot leak into a child.
SETTINGS_VARS = [
    "DEBUG",
    "SECRET_KEY",
    "PORT",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "WS_ALLOWED_ORIGINS",
    "DATABASE_URL",
    "SQLITE_PATH",
    "REDIS_URL",
    "REDIS_SSL_CERT_REQS",
    "SECURE_SSL_REDIRECT",
    "LOG_LEVEL",
    "COLLAB_IDLE_SNAPSHOT_SECONDS",
    "COLLAB_MAX_MESSAGE_BYTES",
    "COLLAB_MAX_DOCUMENT_LENGTH",
    "COLLAB_MAX_OP_COMPONENTS",
    "COLLAB_MAX_ATTRIBUTES",
    "COLLAB_OP_RATE",
    "COLLAB_OP_BURST",
    "COLLAB_PRESENCE_RATE",
    "COLLAB_PRESENCE_BURST",
    "COLLAB_MAX_SUBSCRIPTIONS",
    "COLLAB_SYNC_INTERVAL_SECONDS",
    "COLLAB_SNAPSHOT_EVERY",
    "COLLAB_OP_RETENTION_DAYS",
    "COLLAB_CELERY_VISIBILITY_TIMEOUT",
    "COLLAB_IMPORT_TIME_LIMIT",
    "COLLAB_SIGNUP",
    "COLLAB_SIGNUP_DOMAINS",
    "COLLAB_PASSWORD_RESET_BY_EMAIL",
    "COLLAB_EMAIL_RETRY_SECONDS",
    "COLLAB_EMAIL_MAX_RETRIES",
    "COLLAB_INVITATION_DAYS",
    "COLLAB_OIDC_ISSUER",
    "COLLAB_OIDC_CLIENT_ID",
    "COLLAB_OIDC_CLIENT_SECRET",
    "COLLAB_OIDC_NAME",
    "COLLAB_OIDC_DOMAINS",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "COLLAB_METRICS_TOKEN",
    "COLLAB_READY_TIMEOUT_SECONDS",
    "COLLAB_SHUTDOWN_SECONDS",
    "PROMETHEUS_MULTIPROC_DIR",
    "LOG_FORMAT",
    "COLLAB_MAX_CONNECTIONS_PER_DOCUMENT",
    "COLLAB_BUILD_ID",
]


def production_env(**overrides: str) -> dict[str, str]:
    """The environment a production dyno would have (DEBUG off, a real secret), plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARS}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collab.settings",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "collab.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://collab.example.com",
            # Production sends sign-up and reset mail; nothing in these tests sends any.
            "EMAIL_URL": "smtp://collab:secret@127.0.0.1:2525",
        }
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """frontend/dist, as the Node buildpack leaves it (built if possible, else an empty dir)."""
    dist = ROOT / "frontend" / "dist"
    if not dist.is_dir():
        frontend = ROOT / "frontend"
        if (frontend / "build.mjs").exists() and (frontend / "node_modules").is_dir() and shutil.which("npm"):
            result = subprocess.run(
                ["npm", "run", "--silent", "build"], cwd=frontend, capture_output=True, text=True, timeout=300
            )
            if result.returncode != 0:
                print(f"frontend build failed, using an empty dist/: {result.stderr[-2000:]}")
        dist.mkdir(parents=True, exist_ok=True)
    return dist
