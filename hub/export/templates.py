"""Title / meta / footer templates: ``{township}{Y}年{M}月…``; unknown names are spec problems."""

from __future__ import annotations

import string
from typing import Any

from hub.export.problems import did_you_mean
from hub.export.resolve import Resolver
from hub.export.spec import Spec

NAMES = ["township", "county", "Y", "M", "D", "Q", "ref_Y", "ref_M", "ref_D"]


def check_templates(spec: Spec, r: Resolver, params: list[str]) -> None:
    known = [*NAMES, *spec.params]
    texts = [
        (f"sheets[{i}].{kind}", t)
        for i, s in enumerate(spec.sheets)
        for kind, items in (("title", [s.title]), ("meta", s.meta), ("footer", s.footer))
        for t in items
    ]
    texts.append(("title", spec.title))
    for path, text in texts:
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            r.problem(path, f"bad template {text!r}: {exc}", "spec-template")
            continue
        for name in names:
            if name not in known:
                r.problem(
                    path, f"unknown template name '{{{name}}}'{did_you_mean(name, known)}", "spec-template"
                )


def fill(text: str, values: dict[str, Any]) -> str:
    return text.format(**values)
