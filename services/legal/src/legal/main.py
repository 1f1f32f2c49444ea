"""Assembly of the legal service (labour disputes and legal aid): settings → runtime → HTTP app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from servicekit import KitSettings, serve
from servicekit.app import build_app


class Settings(KitSettings):
    service_name: str = "legal"
    http_port: int = 8103


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        settings or Settings(),
        title="gonghui legal",
        migrations_dir=Path(__file__).with_name("migrations"),
    )


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
