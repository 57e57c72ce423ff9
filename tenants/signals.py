"""What tenants tells the apps above it without importing them: they connect receivers here."""

from django.dispatch import Signal

# Sent by onboarding inside its transaction, with the new client's schema active, so whatever a
# receiver writes there is part of the new client, or of nothing if onboarding fails.
# Keyword argument: `organisation`, the new ClientOrganisation.
client_schema_created = Signal()
