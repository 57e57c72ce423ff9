"""Connecting a client's merchant account is idempotent: an account it has is kept, and
Stripe's create is keyed on the client, so two clicks make one account."""

from types import SimpleNamespace

from integrations import stripe_gateway
from tenants.services import connect_merchant_account

from ..conftest import sign_in_verified


def test_connecting_twice_keeps_the_first_account(essex, provider_admin, client, stripe_api,
                                                  monkeypatch):
    asked = []
    create = stripe_gateway.create_connected_account

    def counted(**kwargs):
        asked.append(kwargs["idempotency_key"])
        return create(**kwargs)

    monkeypatch.setattr(stripe_gateway, "create_connected_account", counted)
    sign_in_verified(client, provider_admin)
    for _ in range(2):
        client.post("/clients/essex/merchant-account/", {"action": "create"},
                    HTTP_HOST="localhost")
    essex.refresh_from_db()
    assert essex.stripe_account_id.startswith("acct_") and essex.stripe_charges_enabled
    assert asked == ["connect-client_essex"]
    first = essex.stripe_account_id
    assert connect_merchant_account(essex, acting_user="tests").stripe_account_id == first
    assert asked == ["connect-client_essex"]


def test_stripe_is_asked_with_the_clients_own_key(settings, monkeypatch):
    settings.STRIPE_API_BASE = ""  # real Stripe, whose client is replaced below
    sent = []

    def create(params, options):
        sent.append((params["email"], options["idempotency_key"]))
        return {"id": "acct_1Abcdefgh", "charges_enabled": False}

    monkeypatch.setattr(stripe_gateway, "_client", lambda: SimpleNamespace(
        v1=SimpleNamespace(accounts=SimpleNamespace(create=create))))
    account = stripe_gateway.create_connected_account(
        email="courses@essex.test", business_name="Essex", idempotency_key="connect-client_essex")
    assert account == {"id": "acct_1Abcdefgh", "charges_enabled": False}
    assert sent == [("courses@essex.test", "connect-client_essex")]
