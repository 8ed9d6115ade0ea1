"""`manage.py check` (and every start-up) validates the lesson templates."""

from django.core.checks import Error, register

from .catalogue import validate_all


@register()
def lesson_templates(app_configs, **kwargs):
    return [
        Error(message, hint="Fix the lesson template file named above.", id="classroom.E001")
        for message in validate_all()
    ]
