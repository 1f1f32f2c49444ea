"""Bearer tokens: what verifies and what is refused, the claims read, the scope rules, the
answers and OpenAPI of a protected route, and the kit's own routes (metrics, the clock)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from jwt.algorithms import ECAlgorithm

from servicekit.clock import Clock, clock_router
from servicekit.health import health_router
from servicekit.http import document_common_answers
from servicekit.identity import (
    Caller,
    IdentityError,
    IdentitySettings,
    Role,
    Verifier,
    caller_from_claims,
    covers,
    is_member,
    is_person,
    region_prefix,
    requires,
    staff_covers,
)
from servicekit.tokens import LocalTokens, keygen

ISSUER, AUDIENCE = "https://idp.example", "gonghui"


def pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "gz-lw-0002",
        "iat": now,
        "exp": now + 300,
        "roles": ["lawyer"],
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def token(key: Any = KEY, algorithm: str = "ES256", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=algorithm)


def hs256_with_public_key() -> str:
    """The classic confusion attack: HMAC keyed with the public key (PyJWT won't sign it)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signed = part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(json.dumps(claims()).encode())
    mac = hmac.new(pem(KEY).encode(), signed, hashlib.sha256).digest()
    return (signed + b"." + part(mac)).decode()


def verifier(**settings: Any) -> Verifier:
    base: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "public_keys": pem(KEY)}
    return Verifier(IdentitySettings(**(base | settings)))


def test_a_token_of_the_configured_key_names_its_caller() -> None:
    caller = verifier().verify(token())
    assert caller == Caller(subject="gz-lw-0002", roles=frozenset({Role.LAWYER}))


@pytest.mark.parametrize(
    ("why", "bad"),
    [
        ("expired", lambda: token(exp=int(time.time()) - 120)),
        ("not yet valid", lambda: token(nbf=int(time.time()) + 120)),
        ("another issuer", lambda: token(iss="https://evil.example")),
        ("another audience", lambda: token(aud="someone-else")),
        ("another key", lambda: token(key=OTHER_KEY)),
        ("no expiry", lambda: token(exp=None)),
        ("no subject", lambda: token(sub=None)),
        ("alg none", lambda: jwt.encode(claims(), None, algorithm="none")),
        ("the public key as a shared secret", hs256_with_public_key),
        ("not a token", lambda: "abc.def.ghi"),
    ],
)
def test_a_token_that_does_not_verify_is_refused(why: str, bad: Any) -> None:
    with pytest.raises(jwt.InvalidTokenError):
        verifier().verify(bad())


def test_the_leeway_takes_clock_skew_and_no_more() -> None:
    late = token(exp=int(time.time()) - 20)
    assert verifier(leeway_seconds=30).verify(late).subject == "gz-lw-0002"
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier(leeway_seconds=5).verify(late)


def test_the_algorithm_is_pinned() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed = token(key=rsa_key, algorithm="RS256")
    assert verifier(public_keys=pem(rsa_key), algorithms=["RS256"]).verify(signed)
    with pytest.raises(jwt.InvalidTokenError):
        verifier(public_keys=pem(rsa_key), algorithms=["ES256"]).verify(signed)
    for refused in (["HS256"], ["none"], []):
        with pytest.raises(ValueError, match="asymmetric"):
            IdentitySettings(algorithms=refused)


def test_keys_from_a_jwks_document_are_chosen_by_kid_and_several_pems_are_tried() -> None:
    jwk = json.loads(ECAlgorithm.to_jwk(KEY.public_key())) | {"kid": "k2", "alg": "ES256"}
    by_kid = verifier(public_keys=json.dumps({"keys": [jwk]}))
    assert by_kid.verify(jwt.encode(claims(), KEY, algorithm="ES256", headers={"kid": "k2"}))
    with pytest.raises(jwt.InvalidTokenError):
        by_kid.verify(jwt.encode(claims(), OTHER_KEY, algorithm="ES256", headers={"kid": "k2"}))
    rotated = verifier(public_keys=pem(OTHER_KEY) + pem(KEY))
    assert rotated.verify(token()).subject == "gz-lw-0002"


def test_a_service_without_keys_refuses_to_start_unless_told() -> None:
    with pytest.raises(IdentityError, match="no key"):
        Verifier(IdentitySettings())
    with pytest.raises(IdentityError, match="AUTH_ISSUER"):
        Verifier(IdentitySettings(public_keys=pem(KEY)))
    with pytest.raises(IdentityError, match="no PEM"):
        verifier(public_keys="not a key")
    assert not Verifier(IdentitySettings(allow_no_keys=True)).has_keys


def test_claims_of_the_wrong_shape_grant_nothing() -> None:
    staff = caller_from_claims({"sub": "s", "roles": ["staff", "admin"], "union": "440111"})
    assert staff.roles == {Role.STAFF}
    assert caller_from_claims({"sub": "s", "roles": ["staff"]}).roles == frozenset()
    assert caller_from_claims({"sub": "s", "roles": ["staff"], "union": "4401"}).roles == set()
    assert caller_from_claims({"sub": "s", "roles": "lawyer"}).roles == frozenset()
    member = caller_from_claims({"sub": "a", "roles": ["member"], "member_id": "nope"})
    assert member.member_id is None
    nested = caller_from_claims({"sub": "s", "realm": {"roles": ["visitor"]}}, "realm.roles")
    assert nested.roles == {Role.VISITOR}
    with pytest.raises(jwt.InvalidTokenError):
        caller_from_claims({"roles": ["operator"]})


def test_a_union_covers_its_own_regions_only() -> None:
    assert [region_prefix(u) for u in ("440000", "440100", "440111")] == ["44", "4401", "440111"]
    assert covers("440000", "440111")
    assert covers("440100", "440111")
    assert covers("440111", "440111")
    assert not covers("440111", "440112")
    assert not covers("440100", "440311")  # Guangzhou's union, a Shenzhen district
    assert not covers("440111", "440100")  # a district's union, its whole city
    district = Caller("s", frozenset({Role.STAFF}), union="440111")
    assert staff_covers(district, "440111")
    assert not staff_covers(district, "440106")
    assert not staff_covers(Caller("s", frozenset({Role.LAWYER}), union="440111"), "440111")


def test_a_member_and_a_person_are_who_the_token_names() -> None:
    me = uuid.uuid4()
    member = Caller("app-1", frozenset({Role.MEMBER}), member_id=me)
    assert is_member(member, me)
    assert not is_member(member, uuid.uuid4())
    assert not is_member(Caller("app-1", frozenset({Role.STAFF}), member_id=me), me)
    lawyer = Caller("gz-lw-0002", frozenset({Role.LAWYER}))
    assert is_person(lawyer, Role.LAWYER, "gz-lw-0002")
    assert not is_person(lawyer, Role.LAWYER, "gz-lw-0003")
    assert not is_person(lawyer, Role.VISITOR, "gz-lw-0002")
    assert not is_person(lawyer, Role.LAWYER, None)


def test_the_local_key_is_private_and_made_once(tmp_path: Path) -> None:
    public = keygen(tmp_path)
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert keygen(tmp_path).read_text() == public.read_text()
    tokens = LocalTokens(tmp_path)
    env = tokens.service_env()
    local = Verifier(
        IdentitySettings(
            public_keys=env["AUTH_PUBLIC_KEYS"],
            issuer=env["AUTH_ISSUER"],
            audience=env["AUTH_AUDIENCE"],
        )
    )
    caller = local.verify(tokens.mint(Role.STAFF, subject="gz-by-01", union="440111"))
    assert (caller.subject, caller.roles, caller.union) == ("gz-by-01", {Role.STAFF}, "440111")


async def test_a_protected_route_answers_401_403_and_documents_them() -> None:
    app = FastAPI()
    app.state.verifier = verifier()

    @app.get("/cases")
    async def cases(caller: Annotated[Caller, Depends(requires(Role.STAFF))]) -> dict[str, str]:
        return {"subject": caller.subject}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    document_common_answers(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        missing = await client.get("/cases")
        refused = await client.get("/cases", headers={"Authorization": "Bearer abc.def.ghi"})
        wrong = await client.get("/cases", headers={"Authorization": f"Bearer {token()}"})
        staff = token(roles=["staff"], union="440111", sub="gz-by-01")
        right = await client.get("/cases", headers={"Authorization": f"Bearer {staff}"})
    assert (missing.status_code, refused.status_code) == (401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {"detail": "the bearer token was refused"}
    assert wrong.status_code == 403
    assert right.json() == {"subject": "gz-by-01"}
    spec = app.openapi()
    assert set(spec["paths"]["/cases"]["get"]["responses"]) == {"200", "401", "403"}
    assert set(spec["paths"]["/open"]["get"]["responses"]) == {"200"}
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_only_the_probes_are_open_metrics_and_the_clock_take_the_operator() -> None:
    app = FastAPI()
    app.state.verifier = verifier()
    app.include_router(health_router({}))
    app.include_router(clock_router(Clock()))
    operator = {"Authorization": f"Bearer {token(roles=['operator'], sub='ops-1')}"}
    lawyer = {"Authorization": f"Bearer {token()}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        for method, path in (
            ("GET", "/metrics"),
            ("GET", "/admin/clock"),
            ("POST", "/admin/clock/advance"),
        ):
            body = {"seconds": 60} if method == "POST" else None
            assert (await client.request(method, path, json=body)).status_code == 401
            assert (
                await client.request(method, path, json=body, headers=lawyer)
            ).status_code == 403
            answer = await client.request(method, path, json=body, headers=operator)
            assert answer.status_code == 200, path
        assert "python_info" in (await client.get("/metrics", headers=operator)).text
