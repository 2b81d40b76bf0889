"""Gang scheduling (book 8.5): PodGroups, all or nothing through permit (the Coscheduling plugin)."""
