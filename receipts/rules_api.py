"""Sender rules endpoints: a business's rules (always a receipt, never one, the vendor's name),
and applying one to what is already stored."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import AUTH_ERROR, ERRORS, FAILURE
from gmail_sync.accounts import business_for_user

from .models import SenderRule
from .rules import rule_apply
from .senders import normalise_sender


class SenderRuleSerializer(serializers.ModelSerializer[SenderRule]):
    sender = serializers.CharField(max_length=320, help_text="An address (billing@vendor.com) or a domain (@vendor.com).")
    decision = serializers.ChoiceField(choices=SenderRule.Decision.choices, required=False, allow_blank=True,
                                       help_text="receipt (always), not_receipt (never), or empty (the recogniser decides).")
    vendor = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                   help_text="The vendor's name for this sender's receipts.")

    class Meta:
        model = SenderRule
        fields = ["id", "sender", "decision", "vendor", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_sender(self, value: str) -> str:
        try:
            return normalise_sender(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_vendor(self, value: str) -> str:
        return value.strip()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Not a field of a sender rule."] for name in unknown})
        decision = attrs.get("decision", getattr(self.instance, "decision", ""))
        vendor = attrs.get("vendor", getattr(self.instance, "vendor", ""))
        if not decision and not vendor:
            raise serializers.ValidationError({"decision": ["Give a decision (receipt or not_receipt), a vendor, or both."]})
        return attrs


APPLIED = inline_serializer("SenderRuleApplied", {
    "rejected": serializers.IntegerField(), "renamed": serializers.IntegerField(),
    "stored": serializers.IntegerField(), "already_receipts": serializers.IntegerField(),
    "not_fetchable": serializers.IntegerField(), "failed": serializers.IntegerField(),
    "remaining": serializers.IntegerField(), "errors": serializers.ListField(child=serializers.CharField())})


class SenderRuleViewSet(viewsets.GenericViewSet[SenderRule]):
    serializer_class = SenderRuleSerializer
    pagination_class = None  # a business has a few dozen rules: the list is one answer

    def get_queryset(self) -> QuerySet[SenderRule]:
        if getattr(self, "swagger_fake_view", False):
            return SenderRule.objects.none()
        return SenderRule.objects.filter(business__members=self.request.user.pk or 0)

    def _rule(self, pk: str) -> SenderRule | None:
        return self.get_queryset().filter(pk=pk).first()

    @extend_schema(responses={200: SenderRuleSerializer(many=True), 401: AUTH_ERROR}, summary="The business's sender rules")
    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(request=SenderRuleSerializer,
                   responses={200: SenderRuleSerializer, 201: SenderRuleSerializer, 400: ERRORS, 401: AUTH_ERROR,
                              409: FAILURE},
                   summary="Set the rule for a sender (a rule already there for it is replaced)")
    def create(self, request: Request) -> Response:
        business = business_for_user(request.user)  # type: ignore[arg-type]
        if business is None:
            return Response({"success": False, "error": "This user belongs to no business."},
                            status=status.HTTP_409_CONFLICT)
        if not isinstance(request.data, dict):
            return Response({"success": False, "errors": {"body": ["Send a JSON object."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        incoming = self.get_serializer(data=request.data)
        if not incoming.is_valid():
            return Response({"success": False, "errors": incoming.errors}, status=status.HTTP_400_BAD_REQUEST)
        values = dict(incoming.validated_data)
        rule, created = SenderRule.objects.update_or_create(
            business=business, sender=values.pop("sender"),
            defaults={"decision": values.get("decision", ""), "vendor": values.get("vendor", "")})
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=SenderRuleSerializer, responses={200: SenderRuleSerializer, 400: ERRORS, 401: AUTH_ERROR,
                                                            404: FAILURE},
                   summary="Change a sender rule")
    def partial_update(self, request: Request, pk: str) -> Response:
        rule = self._rule(pk)
        if rule is None:
            return Response({"success": False, "error": "No such sender rule."}, status=status.HTTP_404_NOT_FOUND)
        if not isinstance(request.data, dict):
            return Response({"success": False, "errors": {"body": ["Send a JSON object."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        incoming = self.get_serializer(rule, data=request.data, partial=True)
        if not incoming.is_valid():
            return Response({"success": False, "errors": incoming.errors}, status=status.HTTP_400_BAD_REQUEST)
        sender = incoming.validated_data.get("sender")
        if sender and sender != rule.sender and self.get_queryset().filter(business=rule.business, sender=sender).exists():
            return Response({"success": False, "errors": {"sender": ["Another rule is for this sender."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        incoming.save()
        return Response(incoming.data)

    @extend_schema(request=None, responses={204: None, 401: AUTH_ERROR, 404: FAILURE}, summary="Remove a sender rule")
    def destroy(self, request: Request, pk: str) -> Response:
        rule = self._rule(pk)
        if rule is None:
            return Response({"success": False, "error": "No such sender rule."}, status=status.HTTP_404_NOT_FOUND)
        rule.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: APPLIED, 401: AUTH_ERROR, 404: FAILURE},
                   summary="Apply a rule to what is already stored (fetches only skipped mail it makes receipts)")
    def apply(self, request: Request, pk: str) -> Response:
        rule = self._rule(pk)
        if rule is None:
            return Response({"success": False, "error": "No such sender rule."}, status=status.HTTP_404_NOT_FOUND)
        return Response(rule_apply(rule=rule).as_dict())
