"""The shipped contract suite, against every selected runtime."""

from runtimes.testing import RuntimeContract


class TestContract(RuntimeContract):
    pass
