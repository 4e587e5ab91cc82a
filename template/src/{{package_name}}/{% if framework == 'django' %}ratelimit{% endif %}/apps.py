from __future__ import annotations

from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = __package__ or "ratelimit"
    label = "ratelimit"
    verbose_name = "Rate limits"
