from django.urls import path

from . import journey

app_name = "journey"

urlpatterns = [
    path("book/find/", journey.find, name="find"),
    path("book/where/", journey.where, name="where"),
    path("book/dates/", journey.dates, name="dates"),
    path("book/details/", journey.details, name="details"),
    path("book/check/", journey.check, name="check"),
    path("book/pay/<str:reference>/", journey.pay, name="pay"),
    path("book/pay/<str:reference>/card/", journey.pay_card, name="pay_card"),
    path("book/pay/<str:reference>/return/", journey.pay_return, name="pay_return"),
    path("book/confirmation/<str:reference>/", journey.confirmation, name="confirmation"),
    path("booking/", journey.manage, name="manage"),
    path("booking/transfer/", journey.transfer_start, name="transfer"),
    path("booking/transfer/check/", journey.transfer_check, name="transfer_check"),
    path("booking/cancel/", journey.cancel, name="cancel"),
    path("booking/sign-out/", journey.sign_out, name="sign_out"),
]
