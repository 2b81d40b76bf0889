"""The runtime's streaming server: Exec, Attach and PortForward over SPDY/3.1 (book 4.3)."""
