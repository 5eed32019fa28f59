"""Reading what a page's head says to search engines: meta tags, links, JSON-LD, pictures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Head:
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # name or property -> content
    links: dict[str, str] = field(default_factory=dict)  # rel -> href
    json_ld: list[dict] = field(default_factory=list)
    json_ld_raw: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)  # <img> attributes
    sources: list[dict[str, str]] = field(default_factory=list)  # <source> attributes


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head = Head()
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "meta" and "content" in attributes:
            key = attributes.get("name") or attributes.get("property")
            if key:
                self.head.meta[key] = attributes["content"]
        elif tag == "link" and "rel" in attributes:
            self.head.links[attributes["rel"]] = attributes.get("href", "")
        elif tag == "img":
            self.head.images.append(attributes)
        elif tag == "source":
            self.head.sources.append(attributes)
        elif tag == "title" or (tag == "script"
                                and attributes.get("type") == "application/ld+json"):
            self._in, self._text = tag, []

    def handle_data(self, data):
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._in != tag:
            return
        text = "".join(self._text)
        if tag == "title":
            self.head.title = text.strip()
        else:
            self.head.json_ld_raw.append(text)
            self.head.json_ld.append(json.loads(text))
        self._in = None


def read(html: str) -> Head:
    reader = _Reader()
    reader.feed(html)
    return reader.head


def of_type(head: Head, schema_type: str) -> dict:
    found = [item for item in head.json_ld if item.get("@type") == schema_type]
    assert len(found) == 1, f"{len(found)} {schema_type} blocks"
    return found[0]
