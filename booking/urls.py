from django.urls import path

from . import views

app_name = "site"

urlpatterns = [
    path("", views.start, name="start"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("contact/", views.contact, name="contact"),
    path("language/<str:code>/", views.choose_language, name="language"),
    path("branding/logo/", views.logo, name="logo"),
]
