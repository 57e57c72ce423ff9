from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from . import second_factor
from .models import Membership, User


class WaymarkAdminSite(OTPAdminSite):
    """The Django admin, for provider staff, always behind a verified device.

    It has no sign-in form of its own: people sign in on our sign-in page, so the admin gets the
    same lock-out, audit and answer for a wrong password as every other door."""

    def has_permission(self, request):
        return super().has_permission(request) and not second_factor.is_missing(request.user)

    def login(self, request, extra_context=None):
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        if second_factor.is_missing(request.user):
            return redirect(second_factor.page_url(next_url))
        if self.has_permission(request):
            return redirect("admin:index")
        raise PermissionDenied


admin.site.__class__ = WaymarkAdminSite


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [MembershipInline]
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]
