from django.contrib import admin

from .models import ClientPlan, CreditNote, Invoice, PricePlan, PricePlanVersion, UsageRecord


class VersionInline(admin.TabularInline):
    model = PricePlanVersion
    extra = 0


@admin.register(PricePlan)
class PricePlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    inlines = [VersionInline]


@admin.register(ClientPlan)
class ClientPlanAdmin(admin.ModelAdmin):
    list_display = ("client", "plan", "valid_from")


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("client", "kind", "channel", "occurred_at", "source_event_id")
    list_filter = ("kind", "channel")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "client", "period", "status", "total_pence")
    readonly_fields = [f.name for f in Invoice._meta.fields]


admin.site.register(CreditNote)
