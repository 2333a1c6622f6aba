"""Make sure an operator account exists; print its credentials when this command creates it."""
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the first operator (superuser) and API token if no superuser exists yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default=None, help="default: a random one, printed once")

    def handle(self, *args, username, password, **options):
        users = get_user_model()
        existing = users.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(
                f"Operator account: {existing.get_username()} exists (its password was printed when "
                "it was created). Forgot it? .venv/bin/python manage.py resetoperatorpassword")
            return
        password = password or secrets.token_urlsafe(12)
        user = users.objects.create_superuser(username, "", password)
        token = Token.objects.create(user=user)
        self.stdout.write(
            "Operator account created (shown once):\n"
            f"  username:  {username}\n  password:  {password}\n  API token: {token.key}"
        )
