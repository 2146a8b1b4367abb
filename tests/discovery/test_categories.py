"""The category list (the homepage's filter, OAI-PMH ListSets): each category once, in order,
only where an entry has one of the asked statuses."""

from __future__ import annotations

from typing import Any

from openxiv.discovery import repository
from openxiv.discovery.entries import SEARCHABLE
from openxiv.submissions.lifecycle import Status
from tests.discovery.support import author_token, move, post_item, publish


def test_categories_are_distinct_sorted_and_only_where_an_entry_has_the_status(
    client: Any, runtime: Any
) -> None:
    token = author_token(client)
    publish(client, runtime, token, categories=["stat.ML", "cs.LG"])
    publish(client, runtime, token, categories=["cs.LG"])
    publish(client, runtime, token, categories=["cs.CL"])
    withdrawn = publish(client, runtime, token, categories=["q-bio.NC", "cs.CL"])
    move(runtime, withdrawn, Status.WITHDRAWN)

    with runtime.read_sessions() as session:
        assert repository.categories(session, sorted(SEARCHABLE)) == ["cs.CL", "cs.LG", "stat.ML"]
        assert repository.categories(session, [Status.WITHDRAWN.value]) == ["cs.CL", "q-bio.NC"]
        assert repository.categories(session, ["no such status"]) == []
        post_item(client, token, categories=["math.OC"])  # not published: no entry in these statuses
        assert "math.OC" not in repository.categories(session, [Status.PROVISIONALLY_ACCEPTED.value])
