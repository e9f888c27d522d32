"""A department's pulls of the changes feed over a month of uploads, run in one process on the engine
``HUB_ENGINE`` names (``python -m tests.spark.feed_steps HOME OUT``): the uploads of
tests/exchange/feed_data (a first roster, a newcomer, a changed phone, a death, a move to another
township) and a withdrawal, each followed by a pull since the last cursor and a full pull of a
township's report, and a pull of the county-wide report and its file. Writes every pull's body (the
bytes the API returns) and the report file's SHA-256 to OUT as JSON."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

REPORT, COUNTY_REPORT = "WJ-ELDERLY65", "GA-SYRK"
SECRET = "5ec7e7" * 10 + "0000"  # both engines' workspaces key the records with the same pseudonyms


def main(home: Path, out: Path) -> None:
    from hub.exchange import cache
    from hub.exchange.versions import stale
    from hub.facade import Hub
    from hub.paths import REPO_ROOT
    from tests.exchange.feed_data import REF, TOWN, ledgers

    ref = date.fromisoformat(REF)
    files = ledgers(home.parent / f"{home.name}-ledgers")
    cache.write_atomic(cache.root(home) / "secret", SECRET.encode("ascii"))
    hub = Hub(home)
    pulls: list[str] = []
    try:
        hub.load_divisions(REPO_ROOT / "sample_data" / "divisions.csv")

        def pull(report: str, township: str | None, since: str | None) -> str:
            if stale(hub.db):  # what `hub changes` does: ledgers stored since the last merge
                hub.merge()
            body = hub.changes(report, township, since, ref).body.decode("utf-8")
            pulls.append(body)
            return str(json.loads(body)["cursor"])

        ids: dict[str, int] = {}
        cursor = None
        for step in ("first", "newcomer", "phone", "death", "moved", "withdraw"):
            if step == "withdraw":
                hub.withdraw(ids["newcomer"], by="张三", reason="重复报送")
            else:
                town = "331099001" if step == "moved" else TOWN
                [report] = hub.ingest([files[step]], township=town, today=ref, link=False, annotate=False)
                assert report.status == "ingested", report.message
                ids[step] = int(report.submission_id or 0)
            new = pull(REPORT, TOWN, cursor)
            assert pull(REPORT, TOWN, None) == new  # the same snapshot, pulled whole
            cursor = new
        pull(COUNTY_REPORT, None, None)
        sha = str(hub.report_file(REPORT, TOWN, ref).meta["file"]["sha256"])
    finally:
        hub.close()
    out.write_text(json.dumps({"pulls": pulls, "file": sha}, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
