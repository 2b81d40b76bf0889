"""kube-dev-lab, Chapter 3: the CronJob operator (in progress; see README.md)."""
