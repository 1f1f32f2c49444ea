"""Who calls the HTTP APIs: bearer tokens (JWT) verified against the identity provider's keys,
the caller they name, and the federation's scope rules.

    @api.post("/cases/{case_id}/accept")
    async def accept(case_id: UUID, caller: Caller = Depends(requires(Role.LAWYER))) -> ...

Every route but `/healthz` and `/readyz` takes a token. A token is verified with a well-kept
library (PyJWT): signature by one of the configured public keys or the provider's JWKS, an
asymmetric algorithm from the pinned list (never `none`, never a shared secret), issuer,
audience, expiry and not-before with `AUTH_LEEWAY_SECONDS` of clock skew.

Claims read (any OIDC provider can issue them):
    sub          who acts: the member's app account, the visitor's, lawyer's, judge's, staff
                 member's id
    roles        a list among member, visitor, lawyer, judge, staff, operator
                 (AUTH_ROLES_CLAIM names another claim, dotted for nested ones:
                 `realm_access.roles`); others are ignored
    union        staff: the GB/T 2260 code of their union: a district (440111), a city (440100)
                 or the province (440000); a staff role without it grants nothing
    member_id    member: the platform's id of the member the app account has joined as
    resident_id  member: the resident ID the provider verified (实名认证); a join is for it only

No token, or one that does not verify: 401 with `WWW-Authenticate: Bearer`. A valid token
without a role the route takes: 403. A resource outside the caller's scope (another district's
case, another member's records) is answered 404, as one that does not exist.
"""

# Without `from __future__ import annotations`: FastAPI reads the dependencies' annotations.
import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_REGION = re.compile(r"[0-9]{6}")
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class Role(StrEnum):
    MEMBER = "member"
    VISITOR = "visitor"
    LAWYER = "lawyer"
    JUDGE = "judge"
    STAFF = "staff"
    OPERATOR = "operator"


class IdentityError(ValueError):
    """The identity settings cannot verify anything (the text names no key material)."""


class IdentitySettings(BaseSettings):
    """AUTH_* variables: where the identity provider's keys are and what its tokens must say."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    issuer: str = Field(default="", description="`iss` every token must carry")
    audience: str = Field(default="", description="`aud` every token must carry")
    jwks_url: str = Field(default="", description="The provider's JWKS document (fetched, cached)")
    public_keys: str = Field(
        default="", description="PEM public keys, or a JWKS JSON document, given directly"
    )
    algorithms: list[str] = Field(default=["ES256", "RS256"], description="Pinned `alg` values")
    leeway_seconds: int = Field(default=30, ge=0, le=600, description="Clock skew allowed")
    roles_claim: str = Field(default="roles", description="Dotted path of the roles list")
    allow_no_keys: bool = Field(
        default=False,
        description="Start without any key: every protected route then answers 401 (a service "
        "run for its Kafka work only). Without it, a service with no key refuses to start",
    )

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = sorted(set(value) - ASYMMETRIC)
        if refused or not value:
            raise ValueError(f"only asymmetric algorithms are taken, not {refused or 'none'}")
        return value


@dataclass(frozen=True)
class Caller:
    """The person a verified token names."""

    subject: str
    roles: frozenset[Role]
    union: str | None = None
    member_id: uuid.UUID | None = None
    resident_id: str | None = field(default=None, repr=False)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


# The federation's scope, as pure rules ----------------------------------------------------------


def region_prefix(union: str) -> str:
    """The part of a GB/T 2260 code a union covers: the province's 2 digits, a city's 4, a
    district's 6."""
    if union.endswith("0000"):
        return union[:2]
    if union.endswith("00"):
        return union[:4]
    return union


def covers(union: str, region: str) -> bool:
    """Whether the union of `union` covers the district, city or province `region`."""
    return region.startswith(region_prefix(union))


def staff_covers(caller: Caller, region: str) -> bool:
    return Role.STAFF in caller.roles and caller.union is not None and covers(caller.union, region)


def staff_prefix(caller: Caller) -> str | None:
    """The region prefix a staff caller sees (None: not staff)."""
    if Role.STAFF not in caller.roles or caller.union is None:
        return None
    return region_prefix(caller.union)


def staff_region(caller: Caller) -> str:
    """The region prefix a staff caller's queues, lists and figures are filtered to; 403 for a
    caller who is not staff of a union."""
    region = staff_prefix(caller)
    if region is None:
        raise HTTPException(403, f"this needs the role {Role.STAFF}")
    return region


def is_member(caller: Caller, member_id: uuid.UUID) -> bool:
    return Role.MEMBER in caller.roles and caller.member_id == member_id


def is_person(caller: Caller, role: Role, person_id: str | None) -> bool:
    """The caller is this visitor or lawyer (a case's, a roster entry's)."""
    return role in caller.roles and person_id is not None and caller.subject == person_id


def caller_from_claims(claims: dict[str, Any], roles_claim: str = "roles") -> Caller:
    """The caller of verified claims; a claim of the wrong shape grants nothing."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise jwt.InvalidTokenError("the token names no subject")
    found: Any = claims
    for part in roles_claim.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    names = found if isinstance(found, list) else []
    roles = {Role(name) for name in names if name in Role.__members__.values()}
    union = claims.get("union")
    if not (isinstance(union, str) and _REGION.fullmatch(union)):
        union = None
        roles.discard(Role.STAFF)
    member_id: uuid.UUID | None = None
    try:
        member_id = uuid.UUID(str(claims["member_id"])) if "member_id" in claims else None
    except ValueError:
        member_id = None
    resident_id = claims.get("resident_id")
    return Caller(
        subject=subject,
        roles=frozenset(roles),
        union=union,
        member_id=member_id,
        resident_id=resident_id if isinstance(resident_id, str) else None,
    )


# Verification -----------------------------------------------------------------------------------


class Verifier:
    """Verifies bearer tokens against the configured keys; one per service."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self._static: list[Any] = []
        self._by_kid: dict[str, Any] = {}
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            if settings.jwks_url
            else None
        )
        text = settings.public_keys.strip()
        if text.startswith("{"):
            for key in jwt.PyJWKSet.from_json(text).keys:
                if key.key_id:
                    self._by_kid[key.key_id] = key.key
                else:
                    self._static.append(key.key)
        else:
            self._static = [load_pem_public_key(pem.encode()) for pem in _PEM.findall(text)]
            if text and not self._static:
                raise IdentityError("AUTH_PUBLIC_KEYS holds no PEM public key nor a JWKS")
        if not self.has_keys and not settings.allow_no_keys:
            raise IdentityError(
                "no key verifies tokens: set AUTH_JWKS_URL or AUTH_PUBLIC_KEYS "
                "(or AUTH_ALLOW_NO_KEYS=true to start with every protected route closed)"
            )
        if self.has_keys and not (settings.issuer and settings.audience):
            raise IdentityError("AUTH_ISSUER and AUTH_AUDIENCE are needed to verify tokens")

    @property
    def has_keys(self) -> bool:
        return bool(self._static or self._by_kid or self._jwks)

    def _candidates(self, token: str) -> list[Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        if isinstance(kid, str) and kid in self._by_kid:
            return [self._by_kid[kid]]
        return list(self._static)

    def verify(self, token: str) -> Caller:
        """The caller the token names; raises jwt.InvalidTokenError if it does not verify."""
        candidates = self._candidates(token)
        if not candidates:
            raise jwt.InvalidTokenError("no configured key matches the token")
        failure: jwt.InvalidTokenError = jwt.InvalidSignatureError("no key verifies the token")
        for key in candidates:
            try:
                return self._decode(token, key)
            except jwt.InvalidSignatureError as error:
                failure = error
        raise failure

    async def verify_async(self, token: str) -> Caller:
        """As `verify`, fetching the provider's JWKS (in a thread: the fetch blocks) if needed."""
        if self._jwks is not None and not self._candidates(token):
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            return self._decode(token, key.key)
        return self.verify(token)

    def _decode(self, token: str, key: Any) -> Caller:
        claims = jwt.decode(
            token,
            key,
            algorithms=self.settings.algorithms,
            audience=self.settings.audience,
            issuer=self.settings.issuer,
            leeway=self.settings.leeway_seconds,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        return caller_from_claims(claims, self.settings.roles_claim)


# FastAPI dependencies ---------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A JWT of the identity provider")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def unauthenticated(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers=_CHALLENGE)


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller of the request's bearer token; 401 without one that verifies."""
    if credentials is None:
        raise unauthenticated("a bearer token is needed")
    verifier: Verifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None or not verifier.has_keys:
        raise unauthenticated("this service verifies no tokens")
    try:
        return await verifier.verify_async(credentials.credentials)
    except (jwt.PyJWTError, ValueError):
        # the reason may quote claims: the caller is told only that the token was refused
        raise unauthenticated("the bearer token was refused") from None


def requires(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, if they hold one of `roles` (403 otherwise)."""

    async def caller_with_role(
        caller: Annotated[Caller, Depends(authenticated)],
    ) -> Caller:
        if not caller.has(*roles):
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return caller

    return caller_with_role


def out_of_scope() -> HTTPException:
    """Another district's case, another member's record: answered as if it did not exist."""
    return HTTPException(404, "no such resource")


def require_scope(allowed: bool) -> None:
    if not allowed:
        raise out_of_scope()
