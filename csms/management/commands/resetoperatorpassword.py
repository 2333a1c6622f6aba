"""Give an operator account a new password (a random one unless given), printed once."""
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Set a new password for an operator (default: the first superuser) and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=None,
                            help="default: the first superuser (the one ensure_operator made)")
        parser.add_argument("--password", default=None, help="default: a random one, printed once")

    def handle(self, *args, username, password, **options):
        users = get_user_model()
        if username:
            user = users.objects.filter(username=username).first()
        else:
            user = users.objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError(f"No operator account {username!r}." if username
                               else "No operator account yet: run `manage.py ensure_operator`.")
        password = password or secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        self.stdout.write(f"New password for {user.get_username()} (shown once):\n"
                          f"  username:  {user.get_username()}\n  password:  {password}")
