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
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("Operator account: exists (log in with the credentials you set).")
            return
        password = password or secrets.token_urlsafe(12)
        user = users.objects.create_superuser(username, "", password)
        token = Token.objects.create(user=user)
        self.stdout.write(
            "Operator account created (shown once):\n"
            f"  username:  {username}\n  password:  {password}\n  API token: {token.key}"
        )
