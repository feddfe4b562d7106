"""The ``certification:`` section of app.yaml (reminder policy, programs, holidays)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from bot.config.base import Strict


class Election(Strict):
    """An election date; reminders go quiet around it (escalations still go)."""

    day: date
    name: str = ""
    state: bool = Field(default=True, description="a state election (CT provisional rule)")


class CourseSession(Strict):
    """A scheduled session of a course, shown by ``/cert``."""

    course: str
    day: date
    place: str = ""


class CertificationConfig(Strict):
    """Certification tracking and reminders."""

    programs_path: str | None = Field(
        default=None, description="folder of program YAML files; default: the shipped programs")
    days_before: list[int] = Field(default_factory=lambda: [90, 60, 30, 14, 7, 1, 0])
    overdue_days: list[int] = Field(default_factory=lambda: [1, 7])
    overdue_weekly: bool = True
    escalate_from_days: int = Field(default=7, ge=1)
    send_hour: int = Field(default=9, ge=0, le=23)
    holidays: list[date] = Field(default_factory=list)
    elections: list[Election] = Field(default_factory=list)
    quiet_days_before: int = Field(default=7, ge=0)
    quiet_days_after: int = Field(default=2, ge=0)
    supervisors: dict[str, list[str]] = Field(
        default_factory=dict, description="jurisdiction -> identities; default: state_staff")
    verifiers: list[str] = Field(
        default_factory=list, description="who confirms completions; default: supervisors")
    sessions: list[CourseSession] = Field(default_factory=list)
    scheduler_interval_seconds: float = Field(default=60, gt=0)

    @field_validator("days_before")
    @classmethod
    def _before(cls, value: list[int]) -> list[int]:
        if any(v < 0 for v in value) or len(set(value)) != len(value):
            raise ValueError("days_before are distinct numbers >= 0, e.g. [90, 60, 30, 14, 7, 1, 0]")
        return sorted(value, reverse=True)

    @field_validator("overdue_days")
    @classmethod
    def _after(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value) or len(set(value)) != len(value):
            raise ValueError("overdue_days are distinct numbers >= 1, e.g. [1, 7]")
        return sorted(value)

    @field_validator("supervisors")
    @classmethod
    def _identities(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for members in value.values():
            for member in members:
                if member.count(":") < 2:
                    raise ValueError(f"{member!r} must be platform:workspace:user")
        return value
