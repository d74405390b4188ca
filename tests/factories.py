from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from gmail_sync.models import Business, GmailAccount, SyncRun
from receipts.models import Receipt


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Business {n}")

    @factory.post_generation
    def members(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.members.add(*extracted)


class GmailAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GmailAccount

    business = factory.SubFactory(BusinessFactory)
    email = factory.Sequence(lambda n: f"owner{n}@example.com")
    refresh_token = "1//refresh-token"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    account = factory.SubFactory(GmailAccountFactory)
    mode = SyncRun.Mode.FULL_BACKFILL
    status = SyncRun.Status.PAUSED


class ReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Receipt

    account = factory.SubFactory(GmailAccountFactory)
    gmail_message_id = factory.Sequence(lambda n: f"msg{n:08x}")
    vendor = "Acme"
    currency = "USD"
    confidence = 90
