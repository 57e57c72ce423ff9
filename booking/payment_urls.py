from django.urls import path

from . import payment_views

app_name = "payments"

urlpatterns = [
    path("<str:token>/", payment_views.link_pay, name="link"),
    path("<str:token>/card/", payment_views.link_card, name="link_card"),
    path("<str:token>/return/", payment_views.link_return, name="link_return"),
    path("<str:token>/paid/", payment_views.link_done, name="link_done"),
]
