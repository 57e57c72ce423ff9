"""/manage/ on every client domain (config/urls_client.py includes this, namespace `manage`), and
the offer import at /manage/offers/import/ (namespace `offer_import`)."""

from django.urls import path

from .views import (
    audit_trail,
    cases,
    configure,
    correspondence,
    dashboard,
    merchant_account,
    offenders,
    offer_import,
    payments,
    privacy,
    registers,
    sessions,
    sign_ins,
    staff,
    webhooks,
)

app_name = "manage"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    # Offenders
    path("offenders/", offenders.search, name="offenders"),
    path("offenders/<str:reference>/", offenders.detail, name="offender"),
    path("offenders/<str:reference>/book/", offenders.book_for, name="offender_book"),
    path("offenders/<str:reference>/letter.pdf", offenders.confirmation_letter,
         name="offender_letter"),
    path("offenders/<str:reference>/transfer/", offenders.transfer_for,
         name="offender_transfer"),
    path("offenders/<str:reference>/cancel/", offenders.cancel_for, name="offender_cancel"),
    path("offenders/<str:reference>/withdraw/", offenders.withdraw_for, name="offender_withdraw"),
    path("offenders/<str:reference>/payment/<str:booking_reference>/", payments.payment_for,
         name="offender_payment"),
    path("offenders/<str:reference>/critical-date/", offenders.extend_critical_date,
         name="offender_extend"),
    path("offenders/<str:reference>/cases/new/", cases.case_raise, name="case_raise"),
    # Registers
    path("registers/", registers.register_list, name="registers"),
    path("registers/<int:session_id>/", registers.register, name="register"),
    path("registers/<int:session_id>/print/", registers.register_print,
         name="register_print"),
    # Course dates
    path("sessions/", sessions.session_list, name="sessions"),
    path("sessions/new/", sessions.session_create, name="session_create"),
    path("sessions/series/new/", sessions.series_create, name="series_create"),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session"),
    path("sessions/<int:session_id>/cancel/", sessions.session_cancel, name="session_cancel"),
    # Configuration
    path("configure/", configure.home, name="configure"),
    path("configure/course-types/", configure.course_types, name="course_types"),
    path("configure/course-types/new/", configure.course_type_create,
         name="course_type_create"),
    path("configure/course-types/<int:course_type_id>/", configure.course_type_edit,
         name="course_type"),
    path("configure/venues/", configure.venues, name="venues"),
    path("configure/venues/new/", configure.venue_create, name="venue_create"),
    path("configure/venues/<int:venue_id>/", configure.venue_edit, name="venue"),
    path("configure/trainers/", configure.trainers, name="trainers"),
    path("configure/trainers/new/", configure.trainer_create, name="trainer_create"),
    path("configure/trainers/<int:trainer_id>/", configure.trainer_edit, name="trainer"),
    path("configure/closures/", configure.closures, name="closures"),
    path("configure/branding/", configure.branding, name="branding"),
    path("configure/accessibility/", configure.accessibility, name="accessibility"),
    path("configure/merchant-account/", merchant_account.merchant_account,
         name="merchant_account"),
    path("configure/merchant-account/return/", merchant_account.merchant_account_return,
         name="merchant_account_return"),
    path("configure/webhooks/", webhooks.endpoint_list, name="webhooks"),
    path("configure/webhooks/<int:endpoint_id>/", webhooks.endpoint_detail, name="webhook"),
    path("configure/correspondence/", correspondence.template_list, name="correspondence"),
    path("configure/correspondence/<str:kind>/<str:language>/", correspondence.template_edit,
         name="correspondence_edit"),
    # Special circumstances
    path("cases/", cases.case_list, name="cases"),
    path("cases/<int:case_id>/", cases.case_detail, name="case"),
    path("cases/<int:case_id>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:case_id>/decide/", cases.case_decide, name="case_decide"),
    # Staff and the audit trail
    path("staff/", staff.staff_list, name="staff"),
    path("staff/invite/", staff.staff_invite, name="staff_invite"),
    path("staff/roles/<int:membership_id>/", staff.staff_role, name="staff_role"),
    path("staff/people/<int:user_id>/deactivate/", staff.staff_deactivate,
         name="staff_deactivate"),
    path("staff/people/<int:user_id>/reactivate/", staff.staff_reactivate,
         name="staff_reactivate"),
    path("audit/", audit_trail.audit_trail, name="audit"),
    path("sign-ins/", sign_ins.sign_in_report, name="sign_ins"),
    path("staff/people/<int:user_id>/two-factor/", staff.staff_reset_two_factor,
         name="staff_reset_two_factor"),
    # Data protection: retention, erasure, right of access, who viewed a record
    path("privacy/", privacy.privacy_home, name="privacy"),
    path("privacy/records/<str:reference>/", privacy.privacy_offender,
         name="privacy_offender"),
    path("privacy/records/<str:reference>/export/", privacy.privacy_export,
         name="privacy_export"),
    path("privacy/records/<str:reference>/erase/", privacy.privacy_erase, name="privacy_erase"),
]

offer_import_patterns = [
    path("", offer_import.upload, name="upload"),
    path("done/", offer_import.done, name="done"),
    path("template.csv", offer_import.template_csv, name="template"),
]
