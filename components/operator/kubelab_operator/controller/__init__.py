"""The CronJob controller: a pure reconcile (:mod:`.reconcile`) the engine (:mod:`.engine`) runs
for each CronJob the watches (kopf) put on the work queue (the Chapter 2 one)."""
