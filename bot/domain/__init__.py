"""The support policy as pure code: calendar, severity, contracts, scope, ticket lifecycle (no I/O)."""
