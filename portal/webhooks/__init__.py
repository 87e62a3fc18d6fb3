"""Webhooks: a region's coordinators tell other systems what happened, signed and retried.

A coordinator registers target addresses on the region's settings (``views``, ``services``)
for some of the events in :data:`portal.webhooks.models.EVENTS`. Each event that happens writes
one :class:`~portal.webhooks.models.WebhookDelivery` per webhook that wants it, in the same
transaction as the change (``recording``: a flush listener, so every path that writes the
change, page, import or JSON API, records it; ``expiring``: the daily reminders run). After the
commit the deliveries go to the job queue like mail (:mod:`portal.jobs`), are signed by the
Standard Webhooks convention (``signing``), sent with httpx to public addresses only
(``targets``), and retried with exponential backoff until they give up (``delivery``).
``docs/webhooks.md`` tells receivers how to check them.
"""
