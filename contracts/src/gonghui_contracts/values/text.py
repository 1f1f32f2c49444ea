"""Text that people wrote: names, reasons, notes. Normalised, bounded, and free of the characters
that make a text display as something other than what it says.

Refused: control characters (NUL included; free text may keep line breaks and tabs), the
Unicode bidirectional overrides, embeddings, isolates and marks (U+202E turns "exe.txt" into
"txt.exe" on screen), and the line and paragraph separators. The rule is a `pattern` in the
JSON Schema, so a partner's validator refuses exactly what the platform refuses. Accepted text
is NFC-normalised, so one name has one form (and one lookup).

Identifiers (references, codes, ids) are ASCII: use `Identifier`, not these.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# \u escapes with four digits read the same in Python's re, the Rust regex crate (pydantic's)
# and ECMA-262 (JSON Schema validators).
_BIDI = r"\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029"
_CONTROLS = r"\u0000-\u001F\u007F-\u009F"
_CONTROLS_BUT_LINES = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F"
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:-]+$"


def _pattern(refused: str, *, blank_allowed: bool) -> str:
    if blank_allowed:
        return rf"^[^{refused}]*$"
    # at least one character that is neither refused nor white space
    return rf"^[^{refused}]*[^{refused}\s][^{refused}]*$"


@dataclass(frozen=True)
class _Written:
    max_length: int
    min_length: int
    refused: ClassVar[str]
    refused_in_words: ClassVar[str]

    def check(self, value: str) -> str:
        if re.search(f"[{self.refused}]", value):
            raise ValueError(f"must not contain {self.refused_in_words}")
        value = unicodedata.normalize("NFC", value).strip()
        if not value and self.min_length:
            raise ValueError("must not be blank")
        if len(value) > self.max_length:  # a few characters decompose into more than one
            raise ValueError(f"must have at most {self.max_length} characters once NFC-normalised")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self.check,
            core_schema.str_schema(min_length=self.min_length, max_length=self.max_length),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        described["pattern"] = _pattern(self.refused, blank_allowed=self.min_length == 0)
        return described


class Line(_Written):
    """One line of text people read (a name, a reason): `Annotated[str, Line(50)]`."""

    refused = _CONTROLS + _BIDI
    refused_in_words = "control, line-break, NUL or bidirectional-override characters"

    def __init__(self, max_length: int, *, min_length: int = 1) -> None:
        super().__init__(max_length, min_length)


class Text(_Written):
    """Free text (a note, a description), where line breaks and tabs are kept:
    `Annotated[str, Text(2000)]`."""

    refused = _CONTROLS_BUT_LINES + _BIDI
    refused_in_words = "control, NUL or bidirectional-override characters"

    def __init__(self, max_length: int, *, min_length: int = 1) -> None:
        super().__init__(max_length, min_length)


def Identifier(max_length: int = 64, **field: Any) -> Any:  # noqa: N802
    """A reference or code, ASCII letters, digits and . _ : - only: `Annotated[str,
    Identifier(64)]`."""
    return Field(min_length=1, max_length=max_length, pattern=IDENTIFIER_PATTERN, **field)
