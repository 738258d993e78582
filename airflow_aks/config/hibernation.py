"""``hibernation:`` — when a stack's cluster and Postgres server sleep.

A weekly awake window in a named IANA time zone, e.g. Monday to Friday 07:00-19:00
Europe/Berlin. Outside it the AKS cluster and the Postgres flexible server are stopped:
stopped AKS bills no control plane or node compute ("A cluster does not accrue charges
while it is stopped", AKS REST reference Managed Clusters - Stop, api-version 2026-07-01,
read 2026-12-07); a stopped Postgres server bills storage but not compute
(/work/shared/notes/first-contact.md, 2026-12-07).

Default on for the dev profile, off for prod (profiles.py).
"""

from __future__ import annotations

import zoneinfo
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel

Day = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEK: tuple[Day, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

# Logic Apps' Recurrence trigger takes Windows time-zone names, not IANA ones (the
# recurrence `timeZone` "should follow Windows time zone format", Azure REST/SDK docs of
# the workflow trigger recurrence, read 2026-12-07). The IANA -> Windows pairs below are
# the territory-001 rows of Unicode CLDR `common/supplemental/windowsZones.xml` as read
# 2026-12-07; only pairs read there are listed, any other zone is refused by name.
WINDOWS_ZONES: dict[str, str] = {
    "Europe/Berlin": "W. Europe Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "Asia/Calcutta": "India Standard Time",
    "Etc/UTC": "UTC",
}


def _hhmm(value: str) -> tuple[int, int]:
    h, _, m = value.partition(":")
    return int(h), int(m)


class HibernationConfig(StrictModel):
    """When the environment is awake; stopped the rest of the week."""

    enabled: bool = False
    time_zone: str = Field(default="Europe/Berlin")
    """IANA time-zone name the window is read in (daylight saving included)."""
    days: list[Day] = Field(default_factory=lambda: list(WEEK[:5]), min_length=1)
    """Days with an awake window."""
    wake: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """Start of the awake window (HH:MM, local)."""
    sleep: str = Field(default="19:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """End of the awake window (HH:MM, local), later the same day."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time-zone name") from None
        if value not in WINDOWS_ZONES:
            raise ValueError(
                f"{value!r} has no Windows time-zone name recorded for the Logic Apps "
                f"schedule; allowed: {', '.join(sorted(WINDOWS_ZONES))}"
            )
        return value

    @field_validator("days")
    @classmethod
    def _unique(cls, value: list[Day]) -> list[Day]:
        if len(set(value)) != len(value):
            raise ValueError("each day at most once")
        return sorted(value, key=WEEK.index)

    @model_validator(mode="after")
    def _window(self) -> HibernationConfig:
        if _hhmm(self.sleep) <= _hhmm(self.wake):
            raise ValueError(
                f"sleep {self.sleep} must be later than wake {self.wake} on the same day"
            )
        return self
