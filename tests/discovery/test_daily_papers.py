"""The daily-papers feed read by the real `huggingface_hub` client against the served app; the
trending score's behaviour; digests written to the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.discovery import digests
from openxiv.discovery.engagement import Engagement
from openxiv.discovery.settings import DigestSettings, DiscoverySettings, TrendingSettings
from openxiv.discovery.trending import trending_score
from openxiv.models.discovery import DigestMessage
from tests.core.helpers import auth, register
from tests.discovery.support import publish, served


@pytest.fixture
def db_backend() -> str:
    return "sqlite"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"discovery": DiscoverySettings(digests=DigestSettings(outbox_dir=tmp_path / "outbox"))}
    )


def test_trending_score_decays_with_age_and_grows_with_engagement() -> None:
    constants = TrendingSettings()
    fresh = trending_score(Engagement(), 0, constants)
    assert trending_score(Engagement(), 24, constants) < fresh
    assert trending_score(Engagement(likes=3), 0, constants) > fresh
    # A comment weighs more than a like, a review less.
    assert trending_score(Engagement(comments=1), 5, constants) > trending_score(
        Engagement(likes=1), 5, constants
    )
    assert trending_score(Engagement(reviews=1), 5, constants) < trending_score(
        Engagement(likes=1), 5, constants
    )
    # Ten likes a day ago beat none just now; the same ten likes a month ago do not.
    assert trending_score(Engagement(likes=10), 24, constants) > trending_score(Engagement(), 1, constants)
    assert trending_score(Engagement(likes=10), 24 * 30, constants) < trending_score(
        Engagement(), 1, constants
    )
    # The documented formula, exactly.
    assert trending_score(Engagement(likes=2, comments=1, reviews=2), 10, constants) == pytest.approx(
        (1 + 2 + 2.0 * 1 + 0.5 * 2) / (10 + 12.0) ** 1.5
    )


def test_huggingface_hub_client_reads_daily_papers(client: Any, runtime: Any, app: Any) -> None:
    ada = register(client, email="ada@example.org")
    bob = register(client, email="bob@example.org", display_name="Bob Example")
    ada_token, bob_token = ada["key"]["token"], bob["key"]["token"]
    first = publish(client, runtime, ada_token, title="First paper on warm-up", keywords=["warm-up"])
    liked = publish(client, runtime, ada_token, title="Second paper, the liked one")
    third = publish(client, runtime, bob_token, title="Third paper by Bob")
    for token in (ada_token, bob_token):
        assert client.put(f"/api/v1/submissions/{liked}/like", headers=auth(token)).status_code == 200
    comment = client.post(
        f"/api/v1/submissions/{liked}/comments", headers=auth(bob_token), json={"body": "Nice."}
    )
    assert comment.status_code == 201, comment.text

    today = datetime.now(UTC).date()
    with served(app) as url:
        hub = HfApi(endpoint=url, token=False)
        newest = list(hub.list_daily_papers(date=today.isoformat()))
        assert [p.id for p in newest] == [third, liked, first]
        paper = newest[1]
        assert paper.title == "Second paper, the liked one"
        assert paper.upvotes == 2 and paper.comments == 1
        assert paper.authors is not None and paper.authors[0].name == "Ada Example"
        assert paper.published_at is not None and paper.submitted_at is not None
        assert paper.submitted_by is not None and paper.submitted_by.username == str(ada["account"]["id"])

        trending = [p.id for p in hub.list_daily_papers(date=today.isoformat(), sort="trending")]
        assert trending[0] == liked and set(trending) == {first, liked, third}
        iso = today.isocalendar()
        assert {p.id for p in hub.list_daily_papers(week=f"{iso.year}-W{iso.week:02d}")} == {
            first,
            liked,
            third,
        }
        assert {p.id for p in hub.list_daily_papers(month=today.strftime("%Y-%m"))} == {first, liked, third}
        assert list(hub.list_daily_papers(date=(today - timedelta(days=1)).isoformat())) == []
        assert [p.id for p in hub.list_daily_papers(submitter=str(bob["account"]["id"]))] == [third]
        assert [p.id for p in hub.list_daily_papers(limit=1, p=1)] == [liked]

        info = hub.paper_info(liked)
        assert (info.id, info.title, info.upvotes, info.comments) == (
            liked,
            "Second paper, the liked one",
            2,
            1,
        )
        assert next(iter(hub.list_papers(query="warm-up paper"))).id == first  # in its title
        assert [p.id for p in hub.list_papers(query="Bob third")] == [third]
        with pytest.raises(HfHubHTTPError):
            hub.paper_info("9999.99999")
        with pytest.raises(HfHubHTTPError):
            list(hub.list_daily_papers(date="2026-13-45"))
        with pytest.raises(HfHubHTTPError):
            list(hub.list_daily_papers(date=today.isoformat(), week="2026-W01"))


def test_digest_outbox_holds_new_items_in_followed_categories(
    client: Any, runtime: Any, settings: Settings, tmp_path: Path
) -> None:
    reader = register(client, email="reader@example.org")
    token = reader["key"]["token"]
    follow = client.put("/api/v1/digests/subscription", headers=auth(token), json={"categories": ["cs.LG"]})
    assert follow.status_code == 200, follow.text
    assert (
        client.put(
            "/api/v1/digests/subscription", headers=auth(token), json={"categories": ["cs.LG\r\nBcc: x@y"]}
        ).status_code
        == 422
    )
    author = register(client, email="author@example.org")["key"]["token"]
    wanted = publish(client, runtime, author, title="Followed <b>category</b> item", categories=["cs.LG"])
    publish(client, runtime, author, title="Other category item", categories=["math.OC"])

    site = digests.DigestSite(base_url=settings.base_url, name="OpenXiv")
    sent: list[Any] = []
    with transaction(runtime.write_sessions) as session:
        written = digests.send_digests(
            session, site, settings.discovery.digests, transport=lambda message, _smtp: sent.append(message)
        )
        assert [(m.recipient, m.item_count) for m in written] == [("reader@example.org", 1)]
        path = Path(written[0].eml_path)
    message = message_from_bytes(path.read_bytes())
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert message["To"] == "reader@example.org" and wanted in body
    assert "Followed <b>category</b> item" in body and "Other category item" not in body
    assert message.get_content_type() == "text/plain" and len(sent) == 1

    # Nothing new since: no second digest; an SMTP failure is recorded, not raised.
    with transaction(runtime.write_sessions) as session:
        assert digests.send_digests(session, site, settings.discovery.digests) == []
    publish(client, runtime, author, title="Another followed item", categories=["cs.LG"])

    def refuse(_message: Any, _smtp: Any) -> None:
        raise ConnectionRefusedError("no SMTP server")

    with transaction(runtime.write_sessions) as session:
        failed = digests.send_digests(session, site, settings.discovery.digests, transport=refuse)
        assert failed[0].sent_at is None and "ConnectionRefusedError" in (failed[0].error or "")
        assert session.query(DigestMessage).count() == 2


def test_digest_send_and_reindex_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from openxiv.cli import app as cli

    config = tmp_path / "openxiv.toml"
    config.write_text(
        f'mode = "dev"\ndatabase_url = "sqlite:///{tmp_path / "cli.db"}"\nsecret_key = "x"\n'
        f'[discovery.digests]\noutbox_dir = "{tmp_path / "outbox"}"\n',
        "utf-8",
    )
    monkeypatch.setenv("OPENXIV_CONFIG", str(config))
    runner = CliRunner()
    sent = runner.invoke(cli, ["digest", "send"])
    assert sent.exit_code == 0, sent.output
    assert "0 digest(s) written" in sent.output and (tmp_path / "outbox").is_dir()
    reindexed = runner.invoke(cli, ["discovery", "reindex"])
    assert reindexed.exit_code == 0 and "0 public item(s) indexed" in reindexed.output
