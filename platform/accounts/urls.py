from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/two-factor/", views.two_factor, name="two_factor"),
    path("sign-out/", views.sign_out, name="logout"),
    path("set-password/<uidb64>/<token>/", views.set_password, name="set_password"),
]
