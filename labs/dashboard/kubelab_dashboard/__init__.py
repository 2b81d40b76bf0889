"""The instructor dashboard: lab runs started with ``--report-to URL --class-token TOKEN`` post
their reports here; the page shows, per lab, a grid of students x checkpoints that updates live.

| module | what it holds |
| --- | --- |
| ``classes`` | the classes and their tokens (who may post), the instructor key (who may look) |
| ``board`` | what the page shows: each student's latest run per lab, where they are stuck and since when |
| ``store`` | accepted reports kept on disk (one JSON line each) and replayed at start |
| ``events`` | the live feed: every accepted report, to every open page (server-sent events) |
| ``export`` | the board as CSV |
| ``app`` | the FastAPI application: the report API, the page, the feed, the export |
| ``cli`` | ``kubelab-dashboard serve`` (uvicorn) |
"""
