"""Identifiers drawn from a seeded RNG: UUIDv7 session/turn ids, tool call ids, fake encrypted blobs."""

from __future__ import annotations

import random
import string

ALNUM = string.ascii_letters + string.digits
BASE64URL = ALNUM + "-_"
HEX = "0123456789abcdef"


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chars(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.chars(n, HEX)

    def uuid7(self, ms: int) -> str:
        """A UUIDv7 whose first 48 bits are ``ms`` (like the ``019a…`` ids Codex writes)."""
        value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | self.rng.getrandbits(12) << 64
        value |= 0b10 << 62 | self.rng.getrandbits(62)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def call_id(self) -> str:
        return "call_" + self.chars(24)

    def encrypted(self) -> str:
        return "gAAAAAB" + self.chars(self.rng.randint(40, 120), BASE64URL)
