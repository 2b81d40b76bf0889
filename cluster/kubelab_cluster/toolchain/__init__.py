"""Build every binary the cluster and the labs run, from the Go module proxy, into a versioned cache."""
