"""The sample submissions are data for tests/test_homework.py, not tests: some never end."""
collect_ignore_glob = ["submissions/*"]
