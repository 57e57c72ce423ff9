"""The contact centre's URLs, included by config/urls_client.py: the console at /contact-centre/
(namespace `contact_centre`) and its telephone payments at /contact-centre/payments/ (namespace
`agent_payments`)."""

from django.urls import path

from . import payments, views

app_name = "contact_centre"

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("log-call/", views.log_offer_call, name="log_call"),
    path("offers/<str:reference>/", views.offer_detail, name="offer"),
    path("offers/<str:reference>/book/", views.book_offer, name="book"),
    path("offers/<str:reference>/log-call/", views.log_offer_call, name="log_offer_call"),
    path("offers/<str:reference>/special-circumstances/", views.special_circumstances,
         name="special_circumstances"),
    path("bookings/<str:reference>/", views.booking_detail, name="booking"),
    path("bookings/<str:reference>/transfer/", views.transfer, name="transfer"),
    path("bookings/<str:reference>/cancel/", views.cancel, name="cancel"),
]

payment_patterns = [
    path("<str:reference>/", payments.agent_take_payment, name="take"),
    path("<str:reference>/card/", payments.agent_card, name="card"),
    path("<str:reference>/return/", payments.agent_returned, name="returned"),
]
