from django.apps import AppConfig


class GmailSyncConfig(AppConfig):
    name = "gmail_sync"
    verbose_name = "Gmail sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment checks)
