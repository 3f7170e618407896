"""Test suite of the supportbot package (a package so tests/storage does not shadow storage/)."""
