"""Email goes out from a real Celery worker process, and is retried while the mail server is away.

The worker is `celery -A collab worker` with the production settings (EMAIL_URL pointing at a
local SMTP server that is not listening yet); the task is queued on Redis like the app does.
"""

import subprocess
import time
import uuid

import pytest
from celery import Celery

from tests.conftest import ARTIFACTS, POSTGRES_URL, REDIS_URL, free_port
from tests.smtp_sink import SmtpSink

from .conftest import ROOT, VENV_BIN, production_env

pytestmark = pytest.mark.integration


def test_mail_waits_for_the_mail_server_then_goes_out() -> None:
    port = free_port()
    queue = f"collab-test-{uuid.uuid4().hex}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"email-worker-{port}.log"
    env = production_env(
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=REDIS_URL,
        EMAIL_URL=f"smtp://127.0.0.1:{port}?tls=0",
        COLLAB_EMAIL_RETRY_SECONDS="1",
    )
    command = [
        str(VENV_BIN / "celery"), "-A", "collab", "worker", "-P", "solo", "-Q", queue,
        "--without-mingle", "--without-gossip", "--loglevel=INFO",
    ]  # fmt: skip
    app = Celery("collab-email-test", broker=REDIS_URL, backend=REDIS_URL)
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        result = app.send_task(
            "documents.tasks.send_email",
            kwargs={
                "subject": "[collab] Confirm your email",
                "body": "Open this link to confirm.",
                "from_email": "collab <noreply@collab.example.com>",
                "to": ["nina@example.com"],
                "html": "<p>Open this link to confirm.</p>",
            },
            queue=queue,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Retry in" not in log_path.read_text(errors="replace"):
            time.sleep(0.2)
        assert "ConnectionRefusedError" in log_path.read_text(errors="replace"), "no failed first try"
        with SmtpSink(port) as sink:
            assert result.get(timeout=60) == 1
            assert sink.received.wait(10)
        [message] = sink.messages
        assert message["Subject"] == "[collab] Confirm your email" and message["To"] == "nina@example.com"
        assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.close()
