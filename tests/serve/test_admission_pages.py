"""The admission pages without a browser: a department submits a column list, reads its review;
another department cannot open it; a bad file and a decision without a reason are refused in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.serve.conftest import login, page_csrf

DRAFT = "栏目,口径说明\n序号,\n村（社区）,\n姓名,\n身份证号,\n年龄,按年底周岁\n走访日期,最近一次\n".encode()


@pytest.mark.slow  # a dozen requests with two reviews: ~5 s
def test_department_submits_a_column_list_and_reads_its_review(app: Any) -> None:
    mz = login(app, "mz_user")
    token = page_csrf(mz, "/dept/admission")
    r = mz.post(
        "/dept/admission",
        data={"csrf_token": token, "title": "老年人走访登记表", "period": "monthly"},
        files={"draft": ("走访.csv", DRAFT, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = mz.get(url).text
    assert (
        "老年人走访登记表" in page
        and "台账可直接生成" in page
        and "需确认口径" in page
        and "新增采集字段" in page
    )
    assert mz.get("/dept/admission").text.count("老年人走访登记表") == 1
    ga = login(app, "ga_user")
    assert ga.get(url).status_code == 404  # another department's draft
    bad = mz.post(
        "/dept/admission",
        data={"csrf_token": token},
        files={"draft": ("说明.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert bad.status_code == 400 and "Excel 表样" in bad.text and "Traceback" not in bad.text
    steward = login(app, "steward")
    draft_id = url.rsplit("/", 1)[-1]
    s_token = page_csrf(steward, f"/steward/admission/{draft_id}")
    refused = steward.post(
        f"/steward/admission/{draft_id}/decide",
        data={"csrf_token": s_token, "decision": "reject", "reason": ""},
    )
    assert refused.status_code == 400 and "理由" in refused.text
    done = steward.post(
        f"/steward/admission/{draft_id}/decide",
        data={"csrf_token": s_token, "decision": "reject", "reason": "与卫健老年人健康管理名单重复"},
    )
    assert done.status_code == 200 and "不予准入" in done.text and "与卫健老年人健康管理名单重复" in done.text
    assert "不予准入" in mz.get("/dept/admission").text
