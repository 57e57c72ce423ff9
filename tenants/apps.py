from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Client organisations"

    def ready(self):
        from . import routing_cache

        routing_cache.connect_signals()
