"""Outgoing alert notifications: webhooks per severity (SMS gateways and chat tools take them).

They live in the settings rather than in the site file: a webhook URL usually carries a token,
which belongs with a deployment's secrets (ECC_CONFIG, ECC_NOTIFY__WEBHOOKS), not with the
description of the district.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

Severity = Literal["info", "warning", "danger", "critical"]
AlertEvent = Literal["raised", "escalated", "deescalated", "acknowledged", "resolved"]
DEFAULT_SEVERITIES: tuple[Severity, ...] = ("warning", "danger", "critical")
DEFAULT_EVENTS: tuple[AlertEvent, ...] = ("raised", "escalated", "resolved")


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="names the webhook in delivery records"
    )
    url: HttpUrl = Field(description="POSTed to for each alert change that matches")
    severities: list[Severity] = Field(
        default_factory=lambda: list(DEFAULT_SEVERITIES),
        min_length=1,
        description="severities of the alert that this webhook hears of",
    )
    events: list[AlertEvent] = Field(
        default_factory=lambda: list(DEFAULT_EVENTS),
        min_length=1,
        description="alert changes that this webhook hears of",
    )
    format: Literal["json", "wecom", "dingtalk"] = Field(
        "json",
        description="json: ECC's alert; wecom, dingtalk: a text message for those group robots",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra request headers (an API key, say)"
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="per delivery attempt")
