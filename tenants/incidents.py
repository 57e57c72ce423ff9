"""Incidents as provider staff tell them on the status pages: reported with a first public
update, then updated until resolved. Each change is one transaction with its audit entry."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record

from .models import ClientOrganisation, Incident, IncidentUpdate


@dataclass(frozen=True)
class NewIncident:
    title: str
    started_at: datetime
    status: str
    text: str
    title_cy: str = ""
    text_cy: str = ""
    affects_all_clients: bool = True
    client_ids: tuple[int, ...] = ()


def _check_update(status: str, text: str) -> None:
    errors = {}
    if status not in IncidentUpdate.Status.values:
        errors["status"] = _("Choose the incident's status.")
    if not text.strip():
        errors["text"] = _("Enter what people should be told.")
    if errors:
        raise ValidationError(errors)


def report_incident(new: NewIncident, *, acting_user, ip_address=None, now=None) -> Incident:
    now = now or timezone.now()
    errors = {}
    if not new.title.strip():
        errors["title"] = _("Enter a title.")
    if new.started_at > now:
        errors["started_at"] = _("The start must be now or in the past.")
    clients = list(ClientOrganisation.objects.filter(pk__in=new.client_ids, is_template=False))
    if not new.affects_all_clients and not clients:
        errors["clients"] = _("Choose the clients affected, or all clients.")
    if errors:
        raise ValidationError(errors)
    _check_update(new.status, new.text)
    with transaction.atomic(durable=True):
        incident = Incident.objects.create(
            title=new.title.strip(), title_cy=new.title_cy.strip(), started_at=new.started_at,
            affects_all_clients=new.affects_all_clients,
            ended_at=now if new.status == IncidentUpdate.Status.RESOLVED else None)
        if not new.affects_all_clients:
            incident.clients.set(clients)
        IncidentUpdate.objects.create(incident=incident, status=new.status,
                                      text=new.text.strip(), text_cy=new.text_cy.strip(),
                                      posted_at=now)
        record(actor=acting_user, action="incident.reported", obj=incident,
               after={"title": incident.title, "status": new.status,
                      "clients": "all" if new.affects_all_clients
                      else sorted(c.slug for c in clients)},
               ip_address=ip_address)
    return incident


def post_incident_update(incident_id: int, *, status: str, text: str, text_cy: str = "",
                         ended_at: datetime | None = None, acting_user, ip_address=None,
                         now=None) -> IncidentUpdate:
    """A new public update. "Resolved" ends the incident (at `ended_at`, else now); any other
    status reopens one that was ended."""
    now = now or timezone.now()
    _check_update(status, text)
    with transaction.atomic(durable=True):
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        before = {"status": incident.updates.values_list("status", flat=True).first(),
                  "ended_at": incident.ended_at.isoformat() if incident.ended_at else None}
        if status == IncidentUpdate.Status.RESOLVED:
            ended = ended_at or now
            if ended < incident.started_at or ended > now:
                raise ValidationError({"ended_at": _(
                    "The end must be after the start and not in the future.")})
            incident.ended_at = ended
        else:
            incident.ended_at = None
        incident.save(update_fields=["ended_at"])
        update = IncidentUpdate.objects.create(incident=incident, status=status,
                                               text=text.strip(), text_cy=text_cy.strip(),
                                               posted_at=now)
        record(actor=acting_user, action="incident.updated", obj=incident, before=before,
               after={"status": status,
                      "ended_at": incident.ended_at.isoformat() if incident.ended_at else None},
               ip_address=ip_address)
    return update
