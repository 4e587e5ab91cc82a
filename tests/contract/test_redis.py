"""With rate_limit_store=redis, what the server does while its Redis is down (the generated
docs/redis.md): sign-in fails closed with 503, readiness says so, and everything comes
back with Redis, on a production server with two workers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract.client import Account, Browser, assert_error
from contract.servers import Deployment

pytestmark = [pytest.mark.contract, pytest.mark.counts_in_redis]


@pytest.mark.checklist("RATE-02", "RATE-01")
def test_while_redis_is_down_sign_in_answers_503_and_the_service_is_not_ready(
    deployment: Deployment,
    make_account: Callable[..., Account],
    new_browser: Callable[..., Browser],
) -> None:
    account = make_account()
    client = new_browser(keep_alive=False)
    client.ensure_csrf()  # the CSRF route is rate limited too
    assert deployment.redis is not None
    with deployment.redis.stopped():
        for _ in range(3):  # whichever worker answers
            refused = client.login(account)
            assert_error(refused, 503, "service_unavailable")
            assert int(refused.headers["retry-after"]) > 0
            assert "__Host-session" not in client.cookies
        assert_error(client.get("/api/ready"), 503, "not_ready")
        assert client.get("/api/health").status_code == 200
    # Redis is back (empty): no worker keeps failing on a connection it held before.
    assert client.get("/api/ready").status_code == 200
    for _ in range(3):
        assert new_browser(keep_alive=False).login(account).status_code == 200
