"""Ed25519 signatures over a skill's manifest, key ids, and the trust store a client checks them against.

The signature is detached: `manifest.sig` is JSON `{"algorithm": "ed25519", "key_id", "signature"}` over
the manifest's canonical bytes. A key id is the first 16 hex digits of the sha256 of the raw public key.
The trust store (`trust.json`) maps a namespace, a glob over skill names (`*`, `acme-*`), to the public
keys trusted to sign skills there; under `$revoked` it keeps the key ids revoked (when and why). A signature by a
revoked key is refused from then on, in every namespace, whatever it signed before.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> private, public = generate_keys(d / "me")
    >>> sig = sign(b"manifest bytes", private)
    >>> trust = TrustStore(d / "trust.json"); kid = trust.add(public, "invoice-*")
    >>> trust.verify("invoice-total", b"manifest bytes", sig) == key_id(load_public(public))
    True
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from skillc.core.errors import SkillFolderError
from skillc.core.files import atomic_write_text, read_json

ALGORITHM = "ed25519"
REVOKED = "$revoked"  # the trust file's key for revoked key ids (not a namespace: names never start with $)


class SignatureError(SkillFolderError):
    """A signature is missing, malformed, made by an untrusted key, or does not match (exit code 5)."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keys(stem: Path) -> tuple[Path, Path]:
    """Write `STEM.key` (private, PEM, mode 600) and `STEM.pub` (public, PEM); refuse to overwrite."""
    private_path, public_path = stem.with_suffix(".key"), stem.with_suffix(".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise SignatureError(f"{path} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    stem.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"{path}: not a usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: Path | bytes) -> Ed25519PublicKey:
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"not a usable public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("not an Ed25519 public key")
    return key


def sign(data: bytes, private_key_path: Path) -> dict[str, str]:
    """A detached signature of `data`."""
    key = load_private(private_key_path)
    return {"algorithm": ALGORITHM, "key_id": key_id(key.public_key()),
            "signature": base64.b64encode(key.sign(data)).decode()}


def read_signature(data: bytes, where: str) -> dict[str, str]:
    sig = read_json(data, where, SignatureError)
    if not isinstance(sig, dict) or sig.get("algorithm") != ALGORITHM or not all(
            isinstance(sig.get(k), str) for k in ("key_id", "signature")):
        raise SignatureError(f"{where}: not an ed25519 signature")
    return sig


class TrustStore:
    """Public keys trusted per namespace (a glob over skill names), kept in one JSON file.

    Args:
        path: the trust file, e.g. `~/.config/skillc/trust.json` or `SKILLC_TRUST`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _data(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        data = read_json(self.path.read_bytes(), self.path, SignatureError)
        if (not isinstance(data, dict) or not isinstance(data.get(REVOKED, {}), dict)
                or not all(isinstance(v, list) for k, v in data.items() if k != REVOKED)):
            raise SignatureError(f"{self.path}: expected {{namespace: [public key PEM, …], \"{REVOKED}\": {{key id: …}}}}")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")

    def entries(self) -> dict[str, list[str]]:
        """Namespace → trusted public keys (PEM)."""
        return {k: v for k, v in self._data().items() if k != REVOKED}

    def revoked(self) -> dict[str, dict[str, str]]:
        """Key id → when and why it was revoked."""
        return dict(self._data().get(REVOKED, {}))

    def revoke(self, key: str | Path, reason: str) -> str:
        """Revoke a key (its id, or its .pub file) in every namespace; returns its key id."""
        from datetime import UTC, datetime

        kid = key_id(load_public(Path(key))) if Path(str(key)).is_file() else str(key)
        if not (len(kid) == 16 and all(c in "0123456789abcdef" for c in kid)):
            raise SignatureError(f"{key!r} is neither a .pub file nor a key id (16 hex digits)")
        data = self._data()
        data.setdefault(REVOKED, {})[kid] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "reason": reason}
        self._save(data)
        return kid

    def refuse_revoked(self, name: str, signature: dict[str, Any]) -> None:
        """Raise `SignatureError` when `signature` was made by a revoked key."""
        revoked = self.revoked().get(str(signature.get("key_id")))
        if revoked is not None:
            raise SignatureError(f"{name}: signed by key {signature.get('key_id')}, which {self.path} revoked on "
                                 f"{revoked.get('at')} ({revoked.get('reason') or 'no reason given'}); refused")

    def add(self, public_key: Path | bytes, namespace: str = "*") -> str:
        """Trust this public key for skills whose names match `namespace`; returns its key id."""
        pem = public_key if isinstance(public_key, bytes) else Path(public_key).read_bytes()
        kid = key_id(load_public(pem))
        data = self._data()
        if kid in data.get(REVOKED, {}):
            raise SignatureError(f"key {kid} was revoked in {self.path}; a revoked key cannot be trusted again")
        keys = data.setdefault(namespace, [])
        if pem.decode() not in keys:
            keys.append(pem.decode())
        self._save(data)
        return kid

    def trusted_for(self, name: str) -> dict[str, Ed25519PublicKey]:
        """The keys trusted to sign `name`, by key id (revoked keys left out)."""
        out: dict[str, Ed25519PublicKey] = {}
        revoked = self.revoked()
        for pattern, keys in self.entries().items():
            if fnmatch.fnmatchcase(name, pattern):
                for pem in keys:
                    key = load_public(pem.encode())
                    if key_id(key) not in revoked:
                        out[key_id(key)] = key
        return out

    def verify(self, name: str, data: bytes, signature: dict[str, Any]) -> str:
        """The signer's key id when `signature` is a valid signature of `data` by a key trusted for `name`."""
        self.refuse_revoked(name, signature)
        keys = self.trusted_for(name)
        key = keys.get(str(signature.get("key_id")))
        if key is None:
            raise SignatureError(f"{name}: signed by key {signature.get('key_id')}, which {self.path} does not trust "
                                 f"for this name (trusted: {', '.join(keys) or 'none'}); `skillc keys trust KEY.pub`")
        try:
            key.verify(base64.b64decode(str(signature["signature"]), validate=True), data)
        except (InvalidSignature, ValueError):
            raise SignatureError(f"{name}: the signature does not match the manifest; it was changed after signing") from None
        return key_id(key)
