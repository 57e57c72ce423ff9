"""Session data kept by a client's pages is bound to that client."""

from types import SimpleNamespace

import pytest
from django.db import connection

from tenants.client_session import ClientSessionData


def visit(organisation, session):
    connection.set_tenant(organisation)
    return SimpleNamespace(tenant=organisation, session=session)


def test_data_kept_on_one_client_is_not_there_on_another(essex, south_wales):
    session = {}
    ClientSessionData(visit(essex, session), "journey").set({"offer": 7})
    assert ClientSessionData(visit(essex, session), "journey").get() == {"offer": 7}
    assert ClientSessionData(visit(south_wales, session), "journey").get() is None
    assert ClientSessionData(visit(south_wales, session), "journey").pop() is None
    assert ClientSessionData(visit(essex, session), "journey").get() == {"offer": 7}


def test_an_entry_copied_under_another_clients_key_is_refused(essex, south_wales):
    session = {}
    ClientSessionData(visit(essex, session), "journey").set({"offer": 7})
    (entry,) = session.values()
    session["journey@" + south_wales.schema_name] = entry  # hand-edited to point at B
    assert ClientSessionData(visit(south_wales, session), "journey").get() is None


def test_a_request_served_from_the_wrong_schema_is_refused(essex, south_wales):
    request = visit(essex, {})
    connection.set_tenant(south_wales)
    with pytest.raises(RuntimeError):
        ClientSessionData(request, "journey")
    with pytest.raises(RuntimeError):
        ClientSessionData(SimpleNamespace(tenant=None, session={}), "journey")
