"""The joint actions of a programme in its progress report for funders (the core's
``programme_report_sections`` hook): each joint action with its clusters, status, progress and
due date, the joint progress, and the effort saved with what it is measured against. The same
roll-up and baselines as the board (the baselines obey the privacy policy); a fixed number of
queries whatever the number of joint actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from portal.toolkit import Panel, _l
from portal_joint import baselines, rollup, services
from portal_joint.forms import JOINT_STATUS_LABELS
from portal_joint.models import JointStatus

CLOSED = (JointStatus.DONE, JointStatus.CANCELLED)


def sections(programme: Any, today: date) -> list[Panel]:
    actions = services.board(programme.id)
    found = baselines.for_actions(actions)
    rows = [
        {
            "action": action,
            "progress": rollup.action_progress(action),
            "clusters": sorted(p.cluster.name for p in action.parts if p.left_on is None),
            "overdue": action.status not in CLOSED
            and action.due_date is not None
            and action.due_date < today,
        }
        for action in actions
    ]
    return [
        Panel(
            _l("Joint actions and effort saved"),
            "joint/_programme_report.html",
            {
                "rows": rows,
                "progress": rollup.programme_progress(actions),
                "money": rollup.programme_effort(actions, "money", found),
                "hours": rollup.programme_effort(actions, "hours", found),
                "status_labels": JOINT_STATUS_LABELS,
                "overdue": sum(1 for row in rows if row["overdue"]),
            },
            order=40,
        )
    ]
