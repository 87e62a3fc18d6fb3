"""The columns of the joint actions' export and import (docs/joint-actions-import.md): stable names
in every language; statuses by their ids, people by e-mail, clusters by name. One row per
cluster taking part; the joint action's columns are repeated on each of its rows."""

from __future__ import annotations

ACTION_COLUMNS = (
    "action_id",
    "title",
    "status",
    "aim",
    "lead_email",
    "lead_cluster",
    "start_date",
    "due_date",
    "budget_money",
    "budget_hours",
    "action_progress",  # computed from the contributions: exported, ignored on import
    # The effort saved and what "alone" it compares with (region, published, estimates,
    # none): computed, exported, ignored on import.
    "effort_saved_money",
    "effort_saved_hours",
    "alone_basis_money",
    "alone_basis_hours",
)
PART_COLUMNS = (
    "cluster",
    "joined_on",
    "left_on",
    "tasks",
    "owner_email",
    "part_status",
    "part_progress",
    "hours_spent",
    "money_spent",
    "solo_hours",
    "solo_money",
)
COLUMNS = ACTION_COLUMNS + PART_COLUMNS
REQUIRED = ("title",)
READ_ONLY = (
    "action_progress",
    "effort_saved_money",
    "effort_saved_hours",
    "alone_basis_money",
    "alone_basis_hours",
)
MAX_ROWS = 5_000
TITLE_LIMIT = 200
TEXT_LIMIT = 5_000
