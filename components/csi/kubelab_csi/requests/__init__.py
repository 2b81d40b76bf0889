"""Reading CSI requests: the checks every call makes before it touches storage."""
