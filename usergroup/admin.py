from django.contrib import admin

from .models import Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    """The provider edits the list of areas here."""

    list_display = ("name", "position")
    list_editable = ("position",)
