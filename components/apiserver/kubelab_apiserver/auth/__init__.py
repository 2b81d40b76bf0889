"""Who is asking and may they: the aggregated server's delegated authentication and authorization."""
