"""The sample submissions are data for tests/test_course_grade.py, not tests: some never end."""
collect_ignore_glob = ["submissions/*"]
