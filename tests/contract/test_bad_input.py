"""The bad-input matrix of issue 9, against every selected runtime."""

from runtimes.testing.bad_input import BadInputContract


class TestBadInput(BadInputContract):
    pass
