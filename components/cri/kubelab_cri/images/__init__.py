"""The CRI ImageService: references, the OCI registry client, the content-addressed store."""
