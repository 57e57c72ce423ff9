"""What a machine's credential is to the permission check, so that accounts never needs to know
the app that issues one (booking's API keys)."""

from .roles import CLIENT_ACTIONS


class ScopedCredential:
    """A credential that may perform exactly the client actions in its `scopes` until it is
    revoked (`revoked_at` set), and nothing else. A credential model inherits this; when it is
    a request's `auth`, HasAction asks it instead of the user's roles."""

    scopes: list[str]
    revoked_at: object

    def allows(self, action: str) -> bool:
        return (self.revoked_at is None and action in CLIENT_ACTIONS
                and action in (self.scopes or []))
