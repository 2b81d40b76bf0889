"""The mermaid asset: the registry's sha512 is checked, the script taken from the package."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile

import pytest

from kubelab_docs.assets import MERMAID_FILE, AssetError, extract, verify


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(blob: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()


def test_the_script_comes_out_of_a_verified_package() -> None:
    tarball = _tarball({MERMAID_FILE: b"window.mermaid = {};", "package/package.json": b"{}"})
    verify(tarball, _integrity(tarball))
    assert extract(tarball, MERMAID_FILE) == b"window.mermaid = {};"


def test_a_tampered_download_or_an_unknown_digest_is_refused() -> None:
    tarball = _tarball({MERMAID_FILE: b"x"})
    with pytest.raises(AssetError, match="does not match"):
        verify(tarball + b"!", _integrity(tarball))
    with pytest.raises(AssetError, match="unsupported integrity"):
        verify(tarball, "sha1-abc")


def test_a_package_without_the_script_is_refused() -> None:
    with pytest.raises(AssetError, match=r"has no package/dist/mermaid\.min\.js"):
        extract(_tarball({"package/package.json": b"{}"}), MERMAID_FILE)
