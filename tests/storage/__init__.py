"""Tests of the storage layer: the backend-independent contract suite and each backend."""
