import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest

from servicekit.webhooks import JsonLinesSink, WebhookError, WebhookPoster, signature


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature(b"secret", "1700000000", b"{}") == f"sha256={expected}"
    assert signature(b"secret", "1700000001", b"{}") != signature(b"secret", "1700000000", b"{}")
    assert signature(b"other", "1700000000", b"{}") != signature(b"secret", "1700000000", b"{}")


def poster(answer: httpx.Response, seen: list[httpx.Request]) -> WebhookPoster:
    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return WebhookPoster("https://pay.example/hooks", b"secret", client, clock=lambda: 1700000000.9)


async def test_a_post_is_json_signed_and_keyed_for_deduplication() -> None:
    seen: list[httpx.Request] = []
    response = await poster(httpx.Response(202, json={"ok": True}), seen).post(
        {"body": "慰问金已到账", "amount": "500.00"}, "payment-1"
    )
    assert response.json() == {"ok": True}
    [request] = seen
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Gonghui-Timestamp"] == "1700000000"
    assert request.headers["X-Gonghui-Signature"] == signature(
        b"secret", "1700000000", request.content
    )
    assert request.headers["Idempotency-Key"] == "payment-1"
    assert "慰问金已到账" in request.content.decode()  # UTF-8, not \u escapes
    assert json.loads(request.content) == {"body": "慰问金已到账", "amount": "500.00"}


@pytest.mark.parametrize("status", [301, 400, 409, 500, 503])
async def test_a_status_of_300_or_more_is_an_error_naming_only_the_status(status: int) -> None:
    answer = httpx.Response(status, text="account 6222020200112233445 of 张三 is closed")
    with pytest.raises(WebhookError) as raised:
        await poster(answer, []).post({"name": "张三"}, "k")
    assert str(raised.value) == f"webhook answered {status}"
    assert raised.value.status_code == status


async def test_an_unreachable_receiver_is_an_error_that_names_no_url_or_body() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            "cannot connect to https://pay.example/hooks?token=t", request=request
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(unreachable))
    with pytest.raises(WebhookError) as raised:
        await WebhookPoster("https://pay.example/hooks?token=t", b"s", client).post(
            {"name": "张三"}, "k"
        )
    assert str(raised.value) == "webhook unreachable: ConnectError"
    assert raised.value.status_code is None
    assert raised.value.__cause__ is None


async def test_the_sink_makes_its_directory_and_appends_one_json_line_per_record(
    tmp_path: Path,
) -> None:
    sink = JsonLinesSink(tmp_path / "out" / "payments.jsonl")
    await sink.append({"payment_id": "p1", "text": "已到账"})
    await sink.append({"payment_id": "p2"})
    lines = (tmp_path / "out" / "payments.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"payment_id": "p1", "text": "已到账"},
        {"payment_id": "p2"},
    ]
    assert "已到账" in lines[0]
