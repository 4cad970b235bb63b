"""The conformance suite: pytest modules run by `municloud conformance run` against an endpoint."""
