"""What the device API tells the rest of the hub, without importing it.

ingest sits below fhir (the FHIR interface reads ingest's visits and queue changes), so ingest cannot call the
FHIR push queue itself: it sends this signal and fhir connects its receiver in FhirConfig.ready().
"""

from django.dispatch import Signal

# Sent by ingest.writes inside the transaction that stores the records, after they are stored, with
# visit_ids (new Visit pks) and change_ids (new VisitChange pks; either list may be empty). A receiver's
# exception rolls the whole write back, as a direct call would: receivers must do their work in the
# same transaction (fhir.push.enqueue queues a push per HIS endpoint) or after it commits.
visits_stored = Signal()
