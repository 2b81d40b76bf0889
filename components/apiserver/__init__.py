"""Makes the tests package ``apiserver.tests``, not a bare ``tests`` (as the scheduler's is), in one run."""
