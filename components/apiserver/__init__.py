"""Makes the tests package ``apiserver.tests`` (not a bare ``tests``, which the scheduler's also is) in one pytest run."""
