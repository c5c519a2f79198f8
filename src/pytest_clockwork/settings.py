"""Settings from ``CW_*`` environment variables, read once per session.

The ``clockwork_*`` ini keys and the ``--clockwork-*`` options override these; see
:mod:`pytest_clockwork.options` for the order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "meta-llama/llama-4-scout:free"
DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
LOCAL_PASSPHRASE = "clockwork"


class ClockworkSettings(BaseSettings):
    """Every ``CW_*`` setting.

    Attributes:
        api_key: Key for the OpenAI-compatible completion endpoint.
        model: The model that completes resources.
        base_url: The OpenAI-compatible endpoint (OpenRouter, Ollama, LM Studio...).
        apply, keep, stack, engine, lock, share, ttl: The plugin's settings, as the
            ``--clockwork-*`` options of the same names (which win over these).
        completion_max_retries: Rejected proposals sent back before giving up.
        completion_concurrency: Resources completed at the same time.
        pulumi_config_passphrase: Passphrase of Pulumi's secrets provider (also read
            from ``PULUMI_CONFIG_PASSPHRASE``).
        pulumi_backend_url: Pulumi state backend (also ``PULUMI_BACKEND_URL``).
        alert_webhook: URL that drift and failure alerts are POSTed to.
    """

    model_config = SettingsConfigDict(env_prefix="CW_", extra="ignore", populate_by_name=True)

    api_key: str | None = None
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    apply: bool | None = None
    keep: Literal["always", "on-failure", "never"] | None = None
    stack: str | None = None
    engine: Literal["auto", "local", "pulumi"] | None = None
    lock: Literal["readonly", "update"] | None = None
    share: Literal["run", "worker"] | None = None
    ttl: str | None = None
    completion_max_retries: int = Field(default=3, ge=0)
    completion_concurrency: int = Field(default=4, ge=1)
    pulumi_config_passphrase: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CW_PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"),
    )
    pulumi_backend_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CW_PULUMI_BACKEND_URL", "PULUMI_BACKEND_URL"),
    )
    alert_webhook: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> ClockworkSettings:
    """The settings, read from the environment on first use and cached.

    The plugin clears the cache when a pytest session starts, so each session reads
    the environment once.
    """
    return ClockworkSettings()
