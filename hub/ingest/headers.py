"""Mapping header text to canonical fields, from the schema's synonyms, ignored headers and role groups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.model import Schema, fold

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")


@dataclass(frozen=True)
class HeaderMatcher:
    synonyms: dict[str, str]
    ignored: frozenset[str]
    roles: tuple[tuple[str, dict[str, str]], ...]

    @classmethod
    def from_schema(cls, schema: Schema) -> HeaderMatcher:
        return cls(
            synonyms=schema.synonyms(),
            ignored=frozenset(fold(h) for h in schema.ignored_headers),
            roles=tuple((fold(g.group_contains), dict(g.fields)) for g in schema.role_groups),
        )

    def lookup(self, text: str) -> str | None:
        """One header cell → field (exact folded match, then with bracketed notes removed)."""
        key = fold(text)
        if key in self.synonyms:
            return self.synonyms[key]
        bare = _BRACKETS.sub("", key)
        return self.synonyms.get(bare) if bare else None

    def is_ignored(self, text: str) -> bool:
        key = fold(text)
        return key in self.ignored or _BRACKETS.sub("", key) in self.ignored

    def is_known(self, text: str) -> bool:
        return self.lookup(text) is not None or self.is_ignored(text)

    def is_group(self, text: str) -> bool:
        key = fold(text)
        return any(g in key for g, _ in self.roles)

    def field_of_path(self, segments: list[str]) -> str | None:
        """A flattened header path → field: by its last segment (role groups applied), else the path."""
        if not segments:
            return None
        leaf = segments[-1]
        if self.is_ignored(leaf) and self.lookup(leaf) is None:
            return None
        field = self.lookup(leaf)
        if field is not None:
            groups = [fold(s) for s in segments[:-1]]
            for contains, mapping in self.roles:
                if field in mapping and any(contains in g for g in groups):
                    return mapping[field]
            return field
        return self.lookup("/".join(segments)) or self.lookup("".join(segments))
