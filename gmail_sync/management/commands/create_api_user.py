from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gmail_sync.accounts import api_user_create


class Command(BaseCommand):
    help = "Create an API user (if new) in a business (created if new) and print a fresh API token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--business", required=True, help="name of the business (tenant)")
        parser.add_argument("--password", default=None, help="also set a password for the web pages")

    def handle(self, *args: Any, **options: Any) -> None:
        user, token = api_user_create(
            username=options["username"], business_name=options["business"], password=options["password"]
        )
        self.stdout.write(f"User {user.get_username()} is a member of {options['business']}.")
        self.stdout.write(token)
