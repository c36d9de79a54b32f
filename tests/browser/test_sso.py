"""Single sign-on round trip in a real browser, against a real OpenID Connect provider.

The provider (oidc-provider-mock: authlib on Flask) runs on a local port in this process; the
daphne server is configured for it through the environment only, as an operator would do it,
and talks to it over HTTP for discovery, the token and the keys.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from oidc_provider_mock import User, run_server_in_thread

from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import DESKTOP, db

pytestmark = pytest.mark.browser

PEOPLE = [
    User(sub="nina", claims={"email": "nina@corp.example", "email_verified": True, "given_name": "Nina"}),
    User(sub="outsider", claims={"email": "out@elsewhere.example", "email_verified": True}),
]


@pytest.fixture
def sso_server_url(transactional_db: Any) -> Iterator[str]:
    with run_server_in_thread(user_claims=PEOPLE) as provider:
        server = ServerProcess(
            {
                **database_url_for_test_db(),
                "REDIS_URL": "",
                "COLLAB_SIGNUP": "invite",
                "COLLAB_OIDC_ISSUER": f"http://127.0.0.1:{provider.server_port}",
                "COLLAB_OIDC_CLIENT_ID": "collab",
                "COLLAB_OIDC_CLIENT_SECRET": "a-client-secret",
                "COLLAB_OIDC_NAME": "Corp SSO",
                "COLLAB_OIDC_DOMAINS": "corp.example",
            },
            name="daphne-sso",
        ).start()
        try:
            yield server.url
        finally:
            server.stop()


def sign_in_with_sso(browser: Any, base_url: str, who: str) -> Any:
    page = browser.new_context(viewport=DESKTOP, base_url=base_url).new_page()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Corp SSO").click()
    page.get_by_role("button", name=who).click()  # the provider's page: choose who signs in
    page.wait_for_load_state()
    return page


def test_sso_round_trip_makes_and_signs_in_a_company_account(
    browser: Any, sso_server_url: str, artifacts_dir: Path
) -> None:
    page = sign_in_with_sso(browser, sso_server_url, "nina")
    page.wait_for_url(sso_server_url + "/")
    page.screenshot(path=str(artifacts_dir / "browser-sso-signed-in.png"), full_page=True)
    nina = db(lambda: get_user_model().objects.get(email="nina@corp.example"))
    assert page.locator(".site-user").inner_text() in ("Nina", nina.username)
    assert db(lambda: nina.socialaccount_set.get().provider) == "sso"
    # Signing in again finds the same account.
    again = sign_in_with_sso(browser, sso_server_url, "nina")
    again.wait_for_url(sso_server_url + "/")
    assert db(lambda: get_user_model().objects.count()) == 1
    page.context.close()
    again.context.close()


def test_sso_refuses_addresses_outside_the_allowed_domains(
    browser: Any, sso_server_url: str, artifacts_dir: Path
) -> None:
    page = sign_in_with_sso(browser, sso_server_url, "outsider")
    page.locator("main", has_text="closed").wait_for()
    page.screenshot(path=str(artifacts_dir / "browser-sso-refused.png"), full_page=True)
    assert db(lambda: get_user_model().objects.count()) == 0
    page.context.close()
