"""A result report for every lab run: what was graded, and each checkpoint's outcome in order.

| module | what it holds |
| --- | --- |
| ``model`` | the report document (pydantic): student, lab, the revision of the code graded, results |
| ``revision`` | which code was graded: its git commit (and whether it had uncommitted changes), its content digest |
| ``collector`` | the pytest plugin part: outcomes and times as the checkpoints run, written at the end |
| ``junit`` | the same report as JUnit XML (CI systems read it) |
| ``table`` | the table printed at the end of a run |
| ``post`` | sending the report to an instructor's dashboard (``--report-to URL``) |
"""
