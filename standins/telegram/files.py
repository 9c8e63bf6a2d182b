"""Stored files (uploads), image sizes, and a tiny PNG encoder for user-side photos."""

from __future__ import annotations

import secrets
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

PHOTO_SIDES = (90, 320, 800, 1280, 2560)


@dataclass(slots=True)
class StoredFile:
    """A file the fake holds: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    data: bytes | None = field(repr=False)
    filename: str = "file"
    content_type: str = "application/octet-stream"
    width: int = 0
    height: int = 0
    url: str | None = None  # for photos sent by the bot as an HTTP URL (not fetched)
    extra_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def file_path(self) -> str:
        return f"photos/{self.file_unique_id}_{self.filename}"

    def photo_sizes(self) -> list[dict[str, Any]]:
        """PhotoSize objects like Telegram's: thumbnails smaller than the original, largest last."""
        width, height = self.width or 1, self.height or 1
        largest = max(width, height)
        thumbs = [side for side in PHOTO_SIDES[:-1] if side < largest]
        while len(self.extra_ids) < len(thumbs):
            self.extra_ids.append(new_file_id())
        sizes = [
            self._size(self.extra_ids[index], round(width * side / largest), round(height * side / largest), False)
            for index, side in enumerate(thumbs)
        ]
        scale = min(1.0, PHOTO_SIDES[-1] / largest)
        sizes.append(self._size(self.file_id, round(width * scale), round(height * scale), True))
        return sizes

    def _size(self, file_id: str, width: int, height: int, original: bool) -> dict[str, Any]:
        size: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": self.file_unique_id if original else f"{self.file_unique_id}{width}",
            "width": max(1, width),
            "height": max(1, height),
        }
        if self.data is not None:
            size["file_size"] = len(self.data) if original else max(1, len(self.data) * width // max(1, self.width))
        return size

    def as_file(self) -> dict[str, Any]:
        info: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.data is not None:
            info["file_size"] = len(self.data)
            info["file_path"] = self.file_path
        return info


def new_file_id() -> str:
    return "AgACAgIAAxkBAAI" + secrets.token_urlsafe(36)


def new_unique_id() -> str:
    return "AQAD" + secrets.token_urlsafe(9)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image, None if not an image Telegram would accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        return _webp_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return None


def make_png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (30, 144, 255)) -> bytes:
    """A valid solid-colour PNG image."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
