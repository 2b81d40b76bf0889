"""``python -m kubelab_credentialprovider`` (and the zipapp the kubelet execs)."""

import sys

from kubelab_credentialprovider.cli import main

sys.exit(main())
