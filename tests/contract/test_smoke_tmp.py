import pytest
pytestmark = pytest.mark.contract

@pytest.mark.checklist("DATA-03")
def test_smoke(user, deployment, admin):
    r = user.me()
    print(r.status_code, r.json(), dict(r.headers))
    print(user.cookies)
    r = admin.get("/api/admin/users")
    print(r.status_code, r.text[:300])
    print(deployment.mail.plaintext_deliveries)
