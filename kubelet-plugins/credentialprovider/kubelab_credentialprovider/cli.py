"""``kubelab-credential-provider``: the exec plugin the kubelet runs for images of a registry that
needs credentials.

It reads a ``CredentialProviderRequest`` on stdin and writes a ``CredentialProviderResponse`` on
stdout with the credentials of the image's registry from ``--credentials`` (an empty ``auth``
when it has none for that registry: the kubelet then pulls without). A malformed request or an
unreadable credentials file: a one-line error on stderr (the kubelet logs it) and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kubelab_credentialprovider.credentials import DEFAULT_FILE, CredentialsError, for_image, load
from kubelab_credentialprovider.protocol import RequestError, parse_request, response


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubelab-credential-provider", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--credentials", type=Path, default=DEFAULT_FILE, help="the registries' credentials (JSON)")
    p.add_argument("--cache-duration", default="10s", help="how long the kubelet may reuse the answer")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        request = parse_request(sys.stdin.read())
        auth = for_image(request.image, load(args.credentials))
    except (RequestError, CredentialsError) as exc:
        print(f"kubelab-credential-provider: {exc}", file=sys.stderr)
        return 1
    json.dump(response(auth, args.cache_duration), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
