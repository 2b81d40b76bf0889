"""The node side: volumes made visible at the paths the kubelet names (staging, then each pod's)."""
