from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self):
        # Tenants learns about booking only through what booking connects and registers here.
        from outbox.signals import message_failed, message_sent
        from tenants.signals import client_schema_created
        from tenants.webhooks import register_handler

        from .notifications.timeline import record_failed, record_sent
        from .services.catalogue import add_national_course_types
        from .services.payments import PAYMENT_EVENTS, settle_payment_event

        client_schema_created.connect(add_national_course_types,
                                      dispatch_uid="booking.add_national_course_types")
        register_handler(PAYMENT_EVENTS, settle_payment_event)
        from .services import setup_checklist

        setup_checklist.connect_signals()
        message_sent.connect(record_sent, dispatch_uid="booking.record_sent")
        message_failed.connect(record_failed, dispatch_uid="booking.record_failed")
        from billing.ledger import register_recount

        from .usage import billable_ids

        register_recount(billable_ids)
