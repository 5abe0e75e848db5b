"""OpenAI-style request errors: `{"error": {"message", "type", "param", "code"}}` with a 4xx.

The official clients turn these bodies into typed exceptions (`BadRequestError`,
`NotFoundError`, ...) and show the message, so a caller learns which field was wrong without
reading server logs.
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """A request the server refuses (or, with status 500, could not serve)."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None,
                 code: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.message, self.status, self.param, self.code, self.kind = (
            message, status, param, code, kind)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param,
                          "code": self.code}}
