"""What a visit keeps between requests, bound to the client whose site kept it.

Sessions live in the public schema, so one session cookie is accepted on every client's domain,
and ids collide between clients by design (each schema counts from 1). An offer id kept by
client A's journey names a different person in client B's schema. Everything the apps keep in a
session therefore goes through `ClientSessionData`: stored under a key that names the client's
schema, with the schema written inside too, and checked on every read. A session proven on one
client is worthless on another.
"""

from django.db import connection


class ClientSessionData:
    """One named entry of the session for the client whose site answered `request`."""

    def __init__(self, request, name: str):
        organisation = getattr(request, "tenant", None)
        if organisation is None:
            raise RuntimeError("ClientSessionData belongs to a client's site, not the control plane")
        # The schema the connection is on must be the one the request routed to: reading rows
        # in one schema while trusting session data of another is the leak this class prevents.
        if connection.schema_name != organisation.schema_name:
            raise RuntimeError(f"Request for {organisation.schema_name} served from schema "
                               f"{connection.schema_name}")
        self.session = request.session
        self.schema = organisation.schema_name
        self.key = f"{name}@{self.schema}"

    def get(self) -> dict | None:
        entry = self.session.get(self.key)
        if not isinstance(entry, dict) or entry.get("client") != self.schema:
            return None
        data = entry.get("data")
        return data if isinstance(data, dict) else None

    def set(self, data: dict) -> None:
        self.session[self.key] = {"client": self.schema, "data": data}

    def touch(self) -> None:
        """Mark the session changed after `data` returned by `get` was altered in place."""
        self.session.modified = True

    def pop(self) -> dict | None:
        data = self.get()
        self.session.pop(self.key, None)
        return data
