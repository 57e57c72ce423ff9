"""The console's client page when a status change is refused: the page is redrawn whole, the
reason field carries the error, both forms keep their labels, and nothing changes."""

import re

from audit.models import AuditEntry
from tenants.models import ClientOrganisation

from ..conftest import sign_in_verified

CONTROL_PLANE = "localhost"


def test_suspending_without_a_reason_is_refused_on_the_field_and_changes_nothing(
        essex, provider_admin, client):
    sign_in_verified(client, provider_admin)
    entries = AuditEntry.objects.count()
    response = client.post(f"/clients/{essex.slug}/suspend/", {"reason": "  "},
                           HTTP_HOST=CONTROL_PLANE)
    assert response.status_code == 400
    page = response.content.decode()
    assert response.context["form"].errors == {
        "reason": ["Enter the reason: it is kept in the audit trail."]}
    assert '<a href="#id_reason">Enter the reason' in page
    assert 'id="id_reason-error"' in page
    # The merchant-account form is drawn too, every control with its label (it was missing,
    # leaving an input and a checkbox with no name).
    for control in ("id_stripe_account_id", "id_allow_moto", "id_reason"):
        assert f'id="{control}"' in page and f'for="{control}"' in page
    assert not re.search(r'\b(?:id|for)=""', page)
    essex.refresh_from_db()
    assert essex.status == ClientOrganisation.Status.LIVE
    assert AuditEntry.objects.count() == entries


def test_with_a_reason_the_client_is_suspended(essex, provider_admin, client):
    sign_in_verified(client, provider_admin)
    response = client.post(f"/clients/{essex.slug}/suspend/", {"reason": "Unpaid"},
                           HTTP_HOST=CONTROL_PLANE)
    assert response.status_code == 302
    essex.refresh_from_db()
    assert essex.status == ClientOrganisation.Status.SUSPENDED
