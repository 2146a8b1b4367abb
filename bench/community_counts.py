"""Like and comment counts: a count query over the rows against the running counts of the
`engagement` table. 100,000 likes over 2,000 items (one hot item with 20,000 of them).

    python bench/community_counts.py sqlite:////tmp/counts.db
    python bench/community_counts.py postgresql://postgres@127.0.0.1:5432/scratch   # emptied first

The numbers behind the choice in docs/community.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert, text

from openxiv.community import service
from openxiv.community.targets import submission_target
from openxiv.db import make_engine, make_session_factory
from openxiv.models import Account, Base, Submission
from openxiv.models.community import Engagement, Like

ACCOUNTS, ITEMS, HOT_LIKES, LIKES_PER_ITEM = 20_000, 2_000, 20_000, 40


def timed(run: Callable[[], object], repeat: int = 200) -> str:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return f"p50 {statistics.median(samples):.2f} ms, p95 {samples[int(repeat * 0.95)]:.2f} ms"


def main(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    accounts = [
        {
            "id": i,
            "email": f"u{i}@example.org",
            "display_name": "u",
            "password_hash": "x",
            "roles": ["author"],
            "policy_version": "1",
            "policy_accepted_at": now,
            "created_at": now,
        }
        for i in range(1, ACCOUNTS + 1)
    ]
    items = [
        {
            "id": i,
            "identifier": f"2601.{i:05d}",
            "kind": "paper",
            "status": "accepted",
            "title": "t",
            "owner_id": 1,
            "latest_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, ITEMS + 1)
    ]
    likes = [
        {
            "target": submission_target(1),
            "liker": f"account:{a}",
            "submission_id": 1,
            "account_id": a,
            "created_at": now,
        }
        for a in range(1, HOT_LIKES + 1)
    ]
    for item in range(2, ITEMS + 1):
        for k in range(LIKES_PER_ITEM):
            account = (item * 7 + k) % ACCOUNTS + 1
            likes.append(
                {
                    "target": submission_target(item),
                    "liker": f"account:{account}",
                    "submission_id": item,
                    "account_id": account,
                    "created_at": now,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Account), accounts)
        conn.execute(insert(Submission), items)
        conn.execute(insert(Like), likes)
        conn.execute(text("ANALYZE"))
    sessions = make_session_factory(engine)
    with sessions() as session:
        counts = service.recount(session, range(1, ITEMS + 1))
        session.execute(
            insert(Engagement),
            [
                {"submission_id": i, "human_likes": c.likes, "agent_likes": 0, "comments": c.comments}
                for i, c in counts.items()
            ],
        )
        session.commit()
    print(f"{engine.dialect.name}: {len(likes)} likes over {ITEMS} items")
    with sessions() as session:
        hot = submission_target(1)
        print("hot item, count query:    ", timed(lambda: service._like_state(session, hot, None)))
        print("hot item, running count:  ", timed(lambda: service._like_state(session, hot, None, 1)))
        first_100 = list(range(1, 101))
        print("100 items, count queries: ", timed(lambda: service.recount(session, first_100), 100))
        print("100 items, running counts:", timed(lambda: service.engagement_counts(session, first_100), 100))
        every = list(range(1, ITEMS + 1))
        print("2,000 items, count queries:", timed(lambda: service.recount(session, every), 30))
        print("2,000 items, running counts:", timed(lambda: service.engagement_counts(session, every), 30))
    Base.metadata.drop_all(engine)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
