"""The one masking rule used everywhere (two different partial masks could be stitched together)."""

from __future__ import annotations


def mask_id(id18: str) -> str:
    """前6位 + ******** + 后4位: ``'11010519491231002X'`` → ``'110105********002X'``."""
    return id18[:6] + "*" * 8 + id18[-4:]


def mask_mobile(m: str) -> str:
    """前3位 + **** + 后4位: ``'13800138000'`` → ``'138****8000'``."""
    return m[:3] + "****" + m[-4:]
