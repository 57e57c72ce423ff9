"""What tenants tells the apps above it without importing them: they connect receivers here."""

from django.dispatch import Signal

# Sent by onboarding inside its transaction, with the new client's schema active, so whatever a
# receiver writes there is part of the new client, or of nothing if onboarding fails.
# Keyword argument: `organisation`, the new ClientOrganisation.
client_schema_created = Signal()

# Sent by validate_new_client before anything is written, with `new` (the NewClient). A receiver
# checks the fields its app owns (billing: `plan`) and returns {field: [messages]}, or {}.
new_client_checked = Signal()

# Sent by onboarding inside its transaction, in the public schema, once the organisation exists.
# Keyword arguments: `organisation`, `new` (the NewClient) and `acting_user`. Whatever a receiver
# writes commits with the onboarding or not at all.
client_onboarded = Signal()
