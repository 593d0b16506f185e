"""Helpers that test modules share: data, models, run folders and processes. No tests here
(pytest collects only ``test_*.py``); a test module imports from here, never from another
test module."""
