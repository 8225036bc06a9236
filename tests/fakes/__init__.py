"""In-memory fakes of the ports the use cases need, for the fast service tests
(tests/unit/services). Each keeps the behaviour the services rely on (a unit of work that
is not committed changes nothing; limits counted as the adapters count them), and no
more."""
