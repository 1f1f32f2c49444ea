"""Local bearer tokens: a signing key under `.local/`, and tokens minted with it for the demo,
the tools and the tests. Production tokens come from the identity provider; the services only
ever hold public keys.

servicekit token keygen                       .local/token/signing-key.pem (0600) and public.pem
servicekit token mint --role lawyer --subject gz-lw-0002
servicekit token mint --role staff --subject gz-by-01 --union 440111
servicekit token mint --role member --subject app-1 --member-id UUID --resident-id ID
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import jwt
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servicekit.identity import Role

LOCAL_ISSUER = "gonghui-local"
LOCAL_AUDIENCE = "gonghui"
DEFAULT_DIR = Path(".local/token")
SIGNING_KEY, PUBLIC_KEY = "signing-key.pem", "public.pem"
KEY_ID = "local-1"

token_app = typer.Typer(help="Local bearer tokens (ES256) for the demo, tools and tests")


def keygen(directory: Path) -> Path:
    """Make the local signing key (P-256) and its public key once; returns the public key's
    path. An existing key is kept: the tokens minted with it stay valid."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / SIGNING_KEY, directory / PUBLIC_KEY
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        with os.fdopen(descriptor, "wb") as file:
            file.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return public_path


def mint(
    signing_key: bytes,
    *,
    subject: str,
    roles: list[Role] | list[str],
    union: str | None = None,
    member_id: uuid.UUID | str | None = None,
    resident_id: str | None = None,
    minutes: float = 60,
    issuer: str = LOCAL_ISSUER,
    audience: str = LOCAL_AUDIENCE,
) -> str:
    """A signed token with the claims `servicekit.identity` reads."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + int(minutes * 60),
        "jti": uuid.uuid4().hex,
        "roles": [str(role) for role in roles],
    }
    if union is not None:
        claims["union"] = union
    if member_id is not None:
        claims["member_id"] = str(member_id)
    if resident_id is not None:
        claims["resident_id"] = resident_id
    return jwt.encode(claims, signing_key, algorithm="ES256", headers={"kid": KEY_ID})


class LocalTokens:
    """Mints tokens with the local key of `directory` (made if missing): the demo's and the
    tests' callers."""

    def __init__(self, directory: Path = DEFAULT_DIR) -> None:
        self.public_key_path = keygen(directory)
        self._signing_key = (directory / SIGNING_KEY).read_bytes()

    @property
    def public_key(self) -> str:
        return self.public_key_path.read_text()

    def service_env(self) -> dict[str, str]:
        """What a service needs to verify these tokens."""
        return {
            "AUTH_PUBLIC_KEYS": self.public_key,
            "AUTH_ISSUER": LOCAL_ISSUER,
            "AUTH_AUDIENCE": LOCAL_AUDIENCE,
        }

    def mint(self, *roles: Role, subject: str, **claims: Any) -> str:
        return mint(self._signing_key, subject=subject, roles=list(roles), **claims)

    def headers(self, *roles: Role, subject: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(*roles, subject=subject, **claims)}"}


Directory = Annotated[Path, typer.Option(help="Where the local key is")]


@token_app.command("keygen")
def keygen_command(directory: Directory = DEFAULT_DIR) -> None:
    """Make the local signing key (mode 0600) and its public key, unless they exist."""
    typer.echo(f"public key: {keygen(directory)}")


@token_app.command("mint")
def mint_command(
    *,
    role: Annotated[list[Role], typer.Option(help="A role; repeat for more")],
    subject: Annotated[str, typer.Option(help="Who acts: the visitor's, lawyer's, staff id")],
    union: Annotated[str | None, typer.Option(help="Staff: their union's GB/T 2260 code")] = None,
    member_id: Annotated[str | None, typer.Option(help="Member: their member id")] = None,
    resident_id: Annotated[str | None, typer.Option(help="Member: verified resident ID")] = None,
    minutes: Annotated[float, typer.Option(help="Valid for")] = 60,
    directory: Directory = DEFAULT_DIR,
) -> None:
    """Print a token signed with the local key."""
    keygen(directory)
    typer.echo(
        mint(
            (directory / SIGNING_KEY).read_bytes(),
            subject=subject,
            roles=role,
            union=union,
            member_id=member_id,
            resident_id=resident_id,
            minutes=minutes,
        )
    )
