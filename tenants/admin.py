from django.contrib import admin

from .models import ClientOrganisation, Domain


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(ClientOrganisation)
class ClientOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "status", "languages"]
    list_filter = ["status", "kind"]
    # Status changes go through the console so they are audited.
    readonly_fields = ["schema_name", "slug", "status", "is_template", "created_at"]
    inlines = [DomainInline]
