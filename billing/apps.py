from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # Onboarding learns about price plans only through what billing connects here.
        from tenants.signals import client_onboarded, new_client_checked

        from .onboarding import check_new_client_plan, put_new_client_on_plan

        new_client_checked.connect(check_new_client_plan,
                                   dispatch_uid="billing.check_new_client_plan")
        client_onboarded.connect(put_new_client_on_plan,
                                 dispatch_uid="billing.put_new_client_on_plan")
        # Invoice events on the platform's own Stripe account come to billing through tenants'
        # webhook endpoint, which never imports billing.
        from tenants.webhooks import register_platform_handler

        from .services.payment_status import INVOICE_EVENTS, settle_invoice_event

        register_platform_handler(INVOICE_EVENTS, settle_invoice_event)
