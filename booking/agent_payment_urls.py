from django.urls import path

from . import payment_views

app_name = "agent_payments"

urlpatterns = [
    path("<str:reference>/", payment_views.agent_take_payment, name="take"),
    path("<str:reference>/card/", payment_views.agent_card, name="card"),
    path("<str:reference>/return/", payment_views.agent_returned, name="returned"),
]
