"""The anonymous registry lookup of the registration page is limited per client."""

from aap.ratelimit import RateLimit, RateLimited


def test_past_the_limit_a_client_is_told_when_to_retry_and_others_are_not_affected() -> None:
    limit = RateLimit(limit=3, window_seconds=60)
    for t in (0, 1, 2):
        limit.check("10.0.0.1", now=t)
    try:
        limit.check("10.0.0.1", now=10)
    except RateLimited as refused:
        assert refused.status_code == 429 and refused.headers == {"Retry-After": "51"}
        assert "réessayez dans 51 secondes" in refused.message
    else:
        raise AssertionError("the fourth call within a minute must be refused")
    limit.check("10.0.0.2", now=10)  # another client
    limit.check("10.0.0.1", now=61)  # the window has slid past the first call
