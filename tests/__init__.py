"""tootback's tests; `tests.support` holds what they share (also used by `bench`)."""
