"""Share cards and their public pages.

A share (`POST /social/share/generate`) gets a card: a 1200×630 PNG drawn off the event loop
(`cards.render_card`, at most `Resources.image_slots` at once), stored in object storage under
`share-cards/<random>.png`, and a public page `GET /s/<random>` (no sign-in) whose Open Graph and
Twitter tags make chat apps and social networks show the card with the share's title and text.
The random part (`secrets.token_urlsafe(16)`, 128 bits) is the only way to the page and the image:
neither names the person. The row keeps only what the person chose to share (title, text, deep
link), and goes with the account (export, erasure, anonymisation), its image deleted after commit.

Sharing the same thing again (same kind, title, text and link) reuses its card. Without usable
object storage the share still answers, with `image_url` and `share_url` null.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
import uuid
from typing import Any

from sqlalchemy import delete, select

from src.adapters.storage import DELETE_TOPIC, StorageError
from src.core.persistence import rowcount
from src.core.ports import ObjectStorage
from src.core.uow import UnitOfWork

from .cards import HEIGHT, WIDTH, CardSpec, render_card
from .errors import SharePageNotFound
from .orm import ShareCardRow

logger = logging.getLogger("ugoki.social.share")

PAGE_PATH = "/s"
IMAGE_PREFIX = "share-cards/"
CACHE_CONTROL = "public, max-age=31536000, immutable"  # keys are never reused
_KEY = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_TITLE = 200
MAX_MESSAGE = 500


def _absolute(url: str, base_url: str) -> str:
    # The local backend's URLs are paths on this API: link cards need absolute URLs.
    return f"{base_url.rstrip('/')}{url}" if url.startswith("/") else url


def page_url(key: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{PAGE_PATH}/{key}"


class ShareCards:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def publish(
        self,
        identity_id: uuid.UUID,
        *,
        share_type: str,
        title: str,
        message: str,
        deep_link: str,
        card: CardSpec,
        base_url: str,
    ) -> tuple[str | None, str | None]:
        """The card's image URL and page URL (both absolute), made now or reused; (None, None)
        when object storage is not usable (a storage outage is logged, the share still answers)."""
        storage = self.uow.resources.storage
        if storage is None:
            return None, None
        title, message = title[:MAX_TITLE], message[:MAX_MESSAGE]
        existing = await self.session.scalar(
            select(ShareCardRow)
            .where(
                ShareCardRow.identity_id == identity_id,
                ShareCardRow.share_type == share_type,
                ShareCardRow.title == title,
                ShareCardRow.message == message,
                ShareCardRow.deep_link == deep_link,
            )
            .order_by(ShareCardRow.created_at.desc())
            .limit(1)
        )
        if existing is not None:
            return self._image_url(storage, existing.image_key, base_url), page_url(existing.key, base_url)
        key = secrets.token_urlsafe(16)
        image_key = f"{IMAGE_PREFIX}{key}.png"
        async with self.uow.resources.image_slots:
            png = await asyncio.to_thread(render_card, card)
        try:
            await storage.put(image_key, png, content_type="image/png", cache_control=CACHE_CONTROL)
        except StorageError as exc:
            logger.error("share card upload to storage failed: %s", exc)
            return None, None
        self.session.add(
            ShareCardRow(
                key=key,
                identity_id=identity_id,
                share_type=share_type,
                title=title,
                message=message,
                deep_link=deep_link,
                image_key=image_key,
                created_at=self.uow.now(),
            )
        )
        await self.session.flush()
        return self._image_url(storage, image_key, base_url), page_url(key, base_url)

    @staticmethod
    def _image_url(storage: ObjectStorage, image_key: str, base_url: str) -> str:
        return _absolute(storage.public_url(image_key), base_url)

    async def page(self, key: str, *, base_url: str) -> str:
        """The public page of a share; SharePageNotFound for an unknown key."""
        row = await self.session.get(ShareCardRow, key) if _KEY.fullmatch(key) else None
        if row is None:
            raise SharePageNotFound("No such share")
        storage = self.uow.resources.storage
        image = self._image_url(storage, row.image_key, base_url) if storage is not None else None
        return render_page(
            title=row.title, message=row.message, deep_link=row.deep_link, url=page_url(key, base_url), image=image
        )

    # Personal data -----------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(ShareCardRow).where(ShareCardRow.identity_id == identity_id).order_by(ShareCardRow.created_at)
        )
        return [
            {
                "page": f"{PAGE_PATH}/{r.key}",
                "share_type": r.share_type,
                "title": r.title,
                "message": r.message,
                "deep_link": r.deep_link,
                "image_storage_key": r.image_key,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]

    async def erase(self, identity_id: uuid.UUID) -> int:
        """The person's cards go; their images are deleted after commit (the pages answer 404 at once)."""
        keys = list(
            await self.session.scalars(select(ShareCardRow.image_key).where(ShareCardRow.identity_id == identity_id))
        )
        result = await self.session.execute(delete(ShareCardRow).where(ShareCardRow.identity_id == identity_id))
        for image_key in keys:
            if image_key.startswith(IMAGE_PREFIX):  # only ever share card images
                # No identity on the message: erasing the account's outbox rows must not drop it.
                self.uow.enqueue(DELETE_TOPIC, {"key": image_key})
        return rowcount(result)


def render_page(*, title: str, message: str, deep_link: str, url: str, image: str | None) -> str:
    """A small HTML page with Open Graph and Twitter card tags (every value escaped)."""

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    meta = [
        ("property", "og:type", "website"),
        ("property", "og:site_name", "UGOKI"),
        ("property", "og:title", title),
        ("property", "og:description", message),
        ("property", "og:url", url),
        ("name", "twitter:card", "summary_large_image" if image else "summary"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", message),
    ]
    if image:
        meta += [
            ("property", "og:image", image),
            ("property", "og:image:type", "image/png"),
            ("property", "og:image:width", str(WIDTH)),
            ("property", "og:image:height", str(HEIGHT)),
            ("property", "og:image:alt", title),
            ("name", "twitter:image", image),
        ]
    tags = "\n".join(f'    <meta {attr}="{name}" content="{e(value)}">' for attr, name, value in meta)
    picture = f'<img src="{e(image)}" alt="{e(title)}" width="{WIDTH}" height="{HEIGHT}">' if image else ""
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>{e(title)} · UGOKI</title>
    <meta name="description" content="{e(message)}">
{tags}
    <style>
      body {{ margin: 0; background: #0b1220; color: #f8fafc; font-family: system-ui, sans-serif; }}
      main {{ max-width: 720px; margin: 0 auto; padding: 32px 20px; text-align: center; }}
      img {{ width: 100%; height: auto; border-radius: 16px; }}
      p {{ color: #94a3b8; font-size: 1.1rem; }}
      a {{ display: inline-block; margin-top: 12px; padding: 14px 28px; border-radius: 999px;
           background: #14b8a6; color: #0b1220; font-weight: 700; text-decoration: none; }}
    </style>
  </head>
  <body>
    <main>
      {picture}
      <h1>{e(title)}</h1>
      <p>{e(message)}</p>
      <a href="{e(deep_link)}">Open in UGOKI</a>
    </main>
  </body>
</html>
"""
