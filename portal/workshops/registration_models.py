"""Registration that fits real meetings: the questions a workshop asks its registrants, their
answers, and the seats people who were not invited ask for.

A question is removed by setting ``removed_at``: its answers stay stored but are no longer
shown or exported. Answers are kept as text (an option's words, or ``on_site``/``online``),
so changing a question never changes what someone answered before.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Timestamped, str_enum, utcnow
from portal.locking import Versioned
from portal.tenancy.scope import TenantScoped


class QuestionKind(enum.StrEnum):
    ATTENDANCE_MODE = "attendance_mode"  # on site or online
    DIETARY = "dietary"
    TEXT = "text"
    CHOICE = "choice"


class RegistrationQuestion(Versioned, TenantScoped, Timestamped, Base):
    __tablename__ = "registration_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    # Empty for on site/online and dietary needs: their words in the reader's language.
    label: Mapped[str] = mapped_column(String(300), default="")
    options: Mapped[str] = mapped_column(Text, default="")  # a choice's options, one a line
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.options or "").splitlines() if line.strip()]


class RegistrationAnswers(Versioned, TenantScoped, Timestamped, Base):
    """One registrant's answers: {question id (as text): the answer}."""

    __tablename__ = "registration_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    answers: Mapped[dict] = mapped_column(JSON, default=dict)


class SeatRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class SeatRequest(TenantScoped, Timestamped, Base):
    """A member who was not invited asks for a seat; a coordinator accepts or declines."""

    __tablename__ = "workshop_seat_request"
    __table_args__ = (UniqueConstraint("workshop_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[SeatRequestStatus] = mapped_column(str_enum(SeatRequestStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    # The answers to the workshop's questions, given with the request: they become the
    # registration's answers when the request is accepted.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was declined
