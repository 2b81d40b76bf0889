"""Small programs of chapter 2: the first example (list pods, in or out of the cluster)."""
