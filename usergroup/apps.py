from django.apps import AppConfig


class UsergroupConfig(AppConfig):
    name = "usergroup"
    verbose_name = "User group"
