from django.core.management.base import BaseCommand, CommandError

from classroom.models import User


class Command(BaseCommand):
    help = (
        "Make a teacher account an operator (or, with --off, no longer one): operators import datasets and "
        "weights on the Models and data page and evaluate any model from its card."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--off", action="store_true")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["username"]).first()
        if user is None or not user.is_teacher:
            raise CommandError(f"No teacher account named {opts['username']!r}.")
        user.is_staff = not opts["off"]
        user.save(update_fields=["is_staff"])
        self.stdout.write(f"{user.username} is {'now' if user.is_staff else 'no longer'} an operator.")
