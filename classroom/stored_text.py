"""Messages workers stored in English, in the language of the page that shows them.

inference.stored_text recognises a message with values by its declared English pattern; the
modules that write such messages are imported here first, so that their declarations exist in
the web process too (it never runs them)."""

from functools import cache

from inference import stored_text


@cache
def _declarations() -> None:
    from inference import intake  # noqa: F401  why an audit skipped a file
    from training import progress  # noqa: F401  a training job's stage
    from training.services import jobs  # noqa: F401  a training job's stage and message

    from .audits import collection  # noqa: F401  why an audit skipped a file
    from .services import predictions, sweeper  # noqa: F401  why a model did not answer


def translated(text: str) -> str:
    """A stored message in the active language; anything not recognised is returned as it is."""
    _declarations()
    return stored_text.translated(text)
