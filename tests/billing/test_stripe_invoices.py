"""Finalised invoices on the platform's Stripe account (localstripe): the right lines and
total read back from Stripe, one customer and one invoice however often it is sent, Stripe
down → not sent until the retry job sends it, paid from a signed webhook (re-fetched from
Stripe), overdue from the sweep, and the status on the console's pages."""

from datetime import timedelta

import pytest
import requests

from billing.models import Invoice, StripeCustomer
from billing.services import invoices, payment_status, stripe_invoices
from billing.services.periods import LONDON
from billing.tasks import mark_overdue_task, send_unsent_task
from integrations import stripe_invoicing
from tenants.models import StripeEvent

from ..conftest import sign_in_verified
from ..test_payments import card_token, signed_event
from .test_invoices import NOVEMBER, NOW, november_usage

FINALISE_AT = NOW + timedelta(days=5)
# The November invoice worked by hand in test_invoices: 2 × 500, 2 × 300, 150, 80; VAT 366.
AMOUNTS = [1000, 600, 150, 80, 366]
TOTAL = 2196
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.fixture(autouse=True)
def stripe_not_known_to_be_down():
    from django.core.cache import cache

    cache.delete(stripe_invoices.STRIPE_DOWN_KEY)
    yield
    cache.delete(stripe_invoices.STRIPE_DOWN_KEY)


def stripe_get(base, path, **params):
    response = requests.get(base + path, params=params, timeout=5,
                            auth=("sk_test_waymark", ""))
    response.raise_for_status()
    return response.json()


def stripe_post(base, path, **data):
    response = requests.post(base + path, data=data, timeout=5, auth=("sk_test_waymark", ""))
    response.raise_for_status()
    return response.json()


def on_stripe(base):
    """Every customer and invoice localstripe holds, with each invoice's line amounts."""
    customers = stripe_get(base, "/v1/customers", limit=100)["data"]
    found = []
    for customer in customers:
        for invoice in stripe_get(base, "/v1/invoices", customer=customer["id"])["data"]:
            lines = stripe_get(base, f"/v1/invoices/{invoice['id']}/lines", limit=100)["data"]
            found.append((invoice, sorted(lines, key=lambda line: line["metadata"].get(
                "waymark_line", "").zfill(3))))
    return customers, found


def finalised_november(essex, captured, *, now=FINALISE_AT):
    """Close November and finalise it; the send handed over on commit runs (eagerly) too."""
    november_usage(essex)
    invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    with captured(execute=True) as callbacks:
        [invoice] = invoices.finalise_due(acting_user="tests", now=now)
    assert len(callbacks) == 1  # the send, after the finalisation committed
    return Invoice.objects.get(pk=invoice.pk)


def test_a_finalised_invoice_goes_to_stripe_with_its_lines_and_total(
        essex_on_graduated, stripe_api, django_capture_on_commit_callbacks):
    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    assert invoice.stripe_status == Invoice.StripeStatus.SENT and invoice.send_error == ""
    assert invoice.due_on == invoice.sent_at.astimezone(LONDON).date() + timedelta(days=30)
    customers, found = on_stripe(stripe_api)
    [customer] = customers
    assert customer["name"] == "Essex County Council"
    assert StripeCustomer.objects.get(client=essex_on_graduated).customer_id == customer["id"]
    [(stripe_invoice, lines)] = found
    assert stripe_invoice["id"] == invoice.stripe_invoice_id
    assert stripe_invoice["metadata"] == {"waymark_invoice": invoice.number}
    assert [line["amount"] for line in lines] == AMOUNTS
    assert {line["currency"] for line in lines} == {"gbp"}
    assert lines[0]["description"].startswith(invoice.lines.first().description)
    assert lines[-1]["description"] == "VAT at 20%"
    assert stripe_invoice["total"] == TOTAL == invoice.total_pence


def test_sending_again_reuses_what_stripe_already_has(essex_on_graduated, stripe_api,
                                                      monkeypatch,
                                                      django_capture_on_commit_callbacks):
    # The first attempt dies after the items were made, before the invoice was.
    def stripe_fails(**kwargs):
        raise stripe_invoicing.PaymentServiceUnavailable("connection reset")

    real_create = stripe_invoicing.create_invoice
    monkeypatch.setattr(stripe_invoicing, "create_invoice", stripe_fails)
    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    assert invoice.stripe_status == Invoice.StripeStatus.NOT_SENT
    assert "connection reset" in invoice.send_error
    monkeypatch.setattr(stripe_invoicing, "create_invoice", real_create)

    stripe_invoices.send_invoice(invoice.pk, acting_user="tests")
    # Our side forgets it was sent (as if the worker died before saving): sent again.
    Invoice.objects.filter(pk=invoice.pk).update(stripe_invoice_id="", sent_at=None,
                                                 stripe_status="not_sent")
    again = stripe_invoices.send_invoice(invoice.pk, acting_user="tests")
    stripe_invoices.send_invoice(invoice.pk, acting_user="tests")

    customers, found = on_stripe(stripe_api)
    assert len(customers) == 1
    [(stripe_invoice, lines)] = found
    assert [line["amount"] for line in lines] == AMOUNTS  # each line once, not twice
    assert again.stripe_invoice_id == stripe_invoice["id"] and again.sent_at is not None


def test_stripe_down_leaves_them_not_sent_until_the_retry_job_sends_them(
        essex_on_graduated, south_wales, volume_plan, stripe_api, settings, client,
        provider_admin, django_capture_on_commit_callbacks):
    from billing.services import plans

    from .conftest import FROM

    plans.assign_plan(south_wales, volume_plan, valid_from=FROM, acting_user="tests")
    november_usage(south_wales, prefix="s")
    settings.STRIPE_API_BASE = NOWHERE
    november_usage(essex_on_graduated)
    invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first, second = invoices.finalise_due(acting_user="tests", now=FINALISE_AT)
    assert len(callbacks) == 2
    invoice, other = Invoice.objects.get(pk=first.pk), Invoice.objects.get(pk=second.pk)
    assert invoice.status == other.status == Invoice.Status.FINALISED
    assert invoice.stripe_status == other.stripe_status == Invoice.StripeStatus.NOT_SENT
    assert invoice.sent_at is None and other.sent_at is None
    assert invoice.send_error.startswith("PaymentServiceUnavailable")
    assert other.send_error == ""  # not even tried: Stripe had just proved unreachable
    # Still down: the job stops at the first failure instead of waiting on each.
    assert send_unsent_task() == {"sent": 0, "not_sent": 2}

    sign_in_verified(client, provider_admin)
    listing = client.get("/billing/", HTTP_HOST="localhost").content.decode()
    assert "Not sent" in listing
    page = client.get(f"/billing/invoices/{invoice.number}/", HTTP_HOST="localhost")
    assert "tried again automatically" in page.content.decode()

    settings.STRIPE_API_BASE = stripe_api  # Stripe is back
    assert send_unsent_task() == {"sent": 2, "not_sent": 0}
    assert send_unsent_task() == {"sent": 0, "not_sent": 0}
    invoice.refresh_from_db()
    assert invoice.stripe_status == Invoice.StripeStatus.SENT and invoice.send_error == ""
    customers, found = on_stripe(stripe_api)
    assert len(customers) == 2
    totals = {stripe_invoice["metadata"]["waymark_invoice"]: stripe_invoice["total"]
              for stripe_invoice, _lines in found}
    assert totals == {invoice.number: invoice.total_pence, other.number: other.total_pence}
    listing = client.get("/billing/", HTTP_HOST="localhost").content.decode()
    assert "Not sent" not in listing and ">Sent<" in listing


def test_a_draft_is_never_sent(essex_on_graduated, stripe_api):
    from django.core.exceptions import ValidationError

    november_usage(essex_on_graduated)
    [draft] = invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
    with pytest.raises(ValidationError) as refused:
        stripe_invoices.send_invoice(draft.pk, acting_user="tests")
    assert "invoice" in refused.value.message_dict
    assert on_stripe(stripe_api) == ([], [])


def deliver_invoice_event(client, event_id, kind, stripe_invoice_id):
    payload = {"id": event_id, "object": "event", "type": kind, "account": None,
               "data": {"object": {"id": stripe_invoice_id, "object": "invoice",
                                   "status": "paid"}}}
    body, signature = signed_event(payload)
    return client.post("/webhooks/stripe/", body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature, HTTP_HOST="localhost")


def test_a_paid_webhook_marks_it_paid_once_stripe_says_so(
        essex_on_graduated, stripe_api, client, django_capture_on_commit_callbacks):
    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    # The event claims "paid", but the handler asks Stripe, which has not been paid yet.
    early = deliver_invoice_event(client, "evt_inv_early", "invoice.paid",
                                  invoice.stripe_invoice_id)
    assert early.status_code == 200
    invoice.refresh_from_db()
    assert invoice.stripe_status == Invoice.StripeStatus.SENT

    # The client pays (a card on the customer, the invoice paid on localstripe).
    customer_id = StripeCustomer.objects.get(client=essex_on_graduated).customer_id
    stripe_post(stripe_api, f"/v1/customers/{customer_id}/sources",
                source=card_token(stripe_api))
    assert stripe_post(stripe_api, f"/v1/invoices/{invoice.stripe_invoice_id}/pay")[
        "status"] == "paid"
    response = deliver_invoice_event(client, "evt_inv_paid", "invoice.paid",
                                     invoice.stripe_invoice_id)
    assert response.status_code == 200 and response.json()["outcome"] == "handled"
    invoice.refresh_from_db()
    assert invoice.stripe_status == Invoice.StripeStatus.PAID and invoice.paid_at is not None
    assert StripeEvent.objects.get(event_id="evt_inv_paid").detail == f"{invoice.number} paid"
    # Delivered again: a duplicate; a later "failed" event never un-pays it.
    again = deliver_invoice_event(client, "evt_inv_paid", "invoice.paid",
                                  invoice.stripe_invoice_id)
    assert again.json()["duplicate"] is True
    deliver_invoice_event(client, "evt_inv_failed", "invoice.payment_failed",
                          invoice.stripe_invoice_id)
    invoice.refresh_from_db()
    assert invoice.stripe_status == Invoice.StripeStatus.PAID


def test_an_event_for_someone_elses_invoice_changes_nothing(essex_on_graduated, stripe_api,
                                                            client):
    response = deliver_invoice_event(client, "evt_other", "invoice.paid", "in_not_ours")
    assert response.status_code == 200
    assert StripeEvent.objects.get(event_id="evt_other").detail == "not one of our invoices"


def test_the_sweep_marks_sent_unpaid_invoices_past_their_due_date_overdue(
        essex_on_graduated, stripe_api, django_capture_on_commit_callbacks):
    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    assert invoice.due_on is not None
    assert payment_status.mark_overdue(acting_user="tests", today=invoice.due_on) == []
    [overdue] = payment_status.mark_overdue(acting_user="tests",
                                            today=invoice.due_on + timedelta(days=1))
    assert overdue.pk == invoice.pk
    invoice.refresh_from_db()
    assert invoice.stripe_status == Invoice.StripeStatus.OVERDUE
    assert mark_overdue_task() == 0  # once only
    # Paid late: Stripe's word moves it on from overdue to paid.
    customer_id = StripeCustomer.objects.get(client=essex_on_graduated).customer_id
    stripe_post(stripe_api, f"/v1/customers/{customer_id}/sources",
                source=card_token(stripe_api))
    stripe_post(stripe_api, f"/v1/invoices/{invoice.stripe_invoice_id}/pay")
    detail = payment_status.settle_invoice_event({"id": invoice.stripe_invoice_id},
                                                 event_type="invoice.paid")
    assert detail == f"{invoice.number} paid"


def test_finalised_content_stays_unchangeable(essex_on_graduated, stripe_api,
                                              django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    invoice.total_pence = 1
    with pytest.raises(ValidationError):
        invoice.save(update_fields=["total_pence", "stripe_status"])


def test_beat_runs_month_close_finalisation_the_retry_job_and_the_overdue_sweep():
    from django.conf import settings

    from config.celery import app

    billing = {entry["task"]: entry["schedule"]
               for entry in settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"].startswith("billing.")}
    assert set(billing) == {"billing.close_last_month", "billing.finalise_due",
                            "billing.send_unsent", "billing.mark_overdue", "billing.check_ledger"}
    assert all(name in app.tasks for name in billing)
    assert billing["billing.close_last_month"].day_of_month == {1}
    assert billing["billing.send_unsent"].minute == {0, 15, 30, 45}


@pytest.mark.django_db(transaction=True)
def test_paying_on_stripe_reaches_us_as_its_own_signed_webhook(essex_on_graduated, stripe_api,
                                                               live_server):
    """End to end, committed for real: finalisation sends the invoice on commit; the client
    pays it on Stripe; localstripe's signed invoice.payment_succeeded marks it paid."""
    import time

    requests.post(f"{stripe_api}/_config/webhooks/waymark-tests", timeout=5, data={
        "url": f"{live_server.url}/webhooks/stripe/", "secret": "whsec_test_waymark"})
    try:
        november_usage(essex_on_graduated)
        invoices.close_month(NOVEMBER, acting_user="tests", now=NOW)
        [invoice] = invoices.finalise_due(acting_user="tests", now=FINALISE_AT)
        invoice.refresh_from_db()
        assert invoice.stripe_status == Invoice.StripeStatus.SENT
        customer_id = StripeCustomer.objects.get(client=essex_on_graduated).customer_id
        stripe_post(stripe_api, f"/v1/customers/{customer_id}/sources",
                    source=card_token(stripe_api))
        stripe_post(stripe_api, f"/v1/invoices/{invoice.stripe_invoice_id}/pay")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            invoice.refresh_from_db()
            if invoice.stripe_status == Invoice.StripeStatus.PAID:
                break
            time.sleep(0.2)
        assert invoice.stripe_status == Invoice.StripeStatus.PAID
        assert StripeEvent.objects.filter(type="invoice.payment_succeeded", outcome="handled",
                                          detail=f"{invoice.number} paid").exists()
    finally:  # later tests' events must not come to this server
        requests.post(f"{stripe_api}/_config/webhooks/waymark-tests", timeout=5, data={
            "url": "http://127.0.0.1:9/", "secret": "whsec_test_waymark"})


def test_stripe_status_uncollectible_or_open_past_due_means_overdue(
        essex_on_graduated, stripe_api, django_capture_on_commit_callbacks):
    invoice = finalised_november(essex_on_graduated, django_capture_on_commit_callbacks)
    before_due = FINALISE_AT
    after_due = FINALISE_AT + timedelta(days=90)
    assert payment_status.apply_stripe_status(invoice.pk, {"status": "open"},
                                              acting_user="stripe", now=before_due
                                              ).endswith("sent; Stripe says open")
    assert payment_status.apply_stripe_status(invoice.pk, {"status": "uncollectible"},
                                              acting_user="stripe", now=before_due
                                              ) == f"{invoice.number} overdue"
    Invoice.objects.filter(pk=invoice.pk).update(stripe_status="sent")
    assert payment_status.apply_stripe_status(invoice.pk, {"status": "open"},
                                              acting_user="stripe", now=after_due
                                              ) == f"{invoice.number} overdue"
