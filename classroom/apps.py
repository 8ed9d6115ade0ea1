from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "classroom"
    verbose_name = "Classroom"

    def ready(self):
        from . import auth_tokens  # noqa: F401  (revokes API tokens at logout)
        from .lessons import checks  # noqa: F401  (registers the lesson-template check)
