from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "classroom"
    verbose_name = "Classroom"

    def ready(self):
        from .lessons import checks  # noqa: F401  (registers the lesson-template check)
