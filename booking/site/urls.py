"""The offender's site, included by config/urls_client.py as three namespaces: `site` (the shell
pages), `journey` (finding an offer, booking, paying, managing the booking) and `payments` (the
pay-by-link pages under /pay/)."""

from django.urls import path

from . import journey, payments, status, survey, views

site_patterns = [
    path("", views.start, name="start"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("cookies/", views.cookies, name="cookies"),
    path("contact/", views.contact, name="contact"),
    path("status/", status.status, name="status"),
    path("language/<str:code>/", views.choose_language, name="language"),
    path("branding/logo/", views.logo, name="logo"),
    path("feedback/", survey.survey, name="survey"),
    path("feedback/thank-you/", survey.survey_thanks, name="survey_thanks"),
]

journey_patterns = [
    path("book/find/", journey.find, name="find"),
    path("book/where/", journey.where, name="where"),
    path("book/dates/", journey.dates, name="dates"),
    path("book/details/", journey.details, name="details"),
    path("book/check/", journey.check, name="check"),
    path("book/pay/<str:reference>/", journey.pay, name="pay"),
    path("book/pay/<str:reference>/card/", journey.pay_card, name="pay_card"),
    path("book/pay/<str:reference>/return/", journey.pay_return, name="pay_return"),
    path("book/confirmation/<str:reference>/", journey.confirmation, name="confirmation"),
    path("book/confirmation/<str:reference>/calendar.ics", journey.confirmation_calendar,
         name="calendar"),
    path("book/confirmation/<str:reference>/receipt/", journey.receipt, name="receipt"),
    path("book/confirmation/<str:reference>/receipt.pdf", journey.receipt_download,
         name="receipt_pdf"),
    path("booking/", journey.manage, name="manage"),
    path("booking/contact-details/", journey.contact_details, name="contact_details"),
    path("booking/transfer/", journey.transfer_start, name="transfer"),
    path("booking/transfer/check/", journey.transfer_check, name="transfer_check"),
    path("booking/cancel/", journey.cancel, name="cancel"),
    path("booking/sign-out/", journey.sign_out, name="sign_out"),
]

payment_patterns = [
    path("<str:token>/", payments.link_pay, name="link"),
    path("<str:token>/card/", payments.link_card, name="link_card"),
    path("<str:token>/return/", payments.link_return, name="link_return"),
    path("<str:token>/paid/", payments.link_done, name="link_done"),
]
