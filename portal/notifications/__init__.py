"""The notification centre: what people are told in the portal (mentions, assignments,
invitations, decisions that became their actions, awards, changes to what they follow, and the
plugins' kinds), read on ``/<region>/notifications`` and delivered as each person chose per
kind: e-mailed at once, in the daily digest, or only there.

``services.notify`` is the one way in; ``producers`` makes the core's; ``kinds`` words them;
``delivery`` sends them through the outbox and the digest."""
