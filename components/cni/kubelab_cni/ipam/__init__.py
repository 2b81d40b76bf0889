"""host-local style IPAM: ranges, a file store under a lock, and the allocator."""
